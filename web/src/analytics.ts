/**
 * The one analytics module: the epic's three Activity events, typed with exactly their
 * properties.
 *
 * With a measurement id configured (production), events go to Firebase Analytics, loaded
 * on first use so it is not in the first page's JavaScript. Without one (the emulators,
 * where Google's hosts are unreachable), each event is appended to `window.dataLayer` in
 * the shape gtag uses, `["event", name, params]`, where developers and tests can read it.
 */
import { config } from "./config";
import { app } from "./firebase";
import type { Kind, Range } from "./activity/filters";

export type AnalyticsEvent =
  | { name: "activity_viewed"; params: { event_count: number; date_range: Range; event_type_filter: Kind } }
  | {
      name: "activity_item_opened";
      params: { activity_type: string; has_generation_link: boolean; has_credit_link: boolean };
    }
  | { name: "activity_filter_applied"; params: { filter_name: string; filter_value: string } };

declare global {
  interface Window {
    dataLayer?: unknown[];
  }
}

export function track(event: AnalyticsEvent): void {
  const measurementId = config.measurementId;
  if (!measurementId) {
    (window.dataLayer ??= []).push(["event", event.name, event.params]);
    return;
  }
  void import("firebase/analytics").then((analytics) => {
    analytics.logEvent(analytics.getAnalytics(app), event.name as string, event.params);
  });
}
