/**
 * When the detail drawer's `activity_item_opened` is recorded, and with what. Pure functions.
 *
 * An opening is the drawer showing an item id: opened from the list, the list's item is
 * known and the event is recorded at once with its properties (so a drawer closed before
 * its data arrives, or whose load fails, still counts); opened any other way (a deep link,
 * a link inside the drawer, the browser's Back), it is recorded once the detail has loaded.
 * Either way once per opening: the drawer remembers which item id it last recorded.
 */
import type { ActivityDetail, ActivityItem } from "../api/client";
import type { AnalyticsEvent } from "../analytics";

export type OpenedParams = Extract<AnalyticsEvent, { name: "activity_item_opened" }>["params"];

/**
 * The properties from a list item. A generation item carries its job id and its debit and
 * refund entry ids; a credits item is one entry, with the job id of its generation if any:
 * the same links the detail answers with as `job` and `entries`.
 */
export function openedFromItem(item: ActivityItem): OpenedParams {
  const hasCreditLink =
    item.kind === "credits"
      ? Boolean(item.entryId)
      : Boolean(item.credits?.debitEntryId || item.credits?.refundEntryId);
  return { activity_type: item.type, has_generation_link: Boolean(item.jobId), has_credit_link: hasCreditLink };
}

/** The properties from the loaded detail. */
export function openedFromDetail(detail: ActivityDetail): OpenedParams {
  return {
    activity_type: detail.item.type,
    has_generation_link: Boolean(detail.job),
    has_credit_link: detail.entries.length > 0,
  };
}

export interface Opening {
  /** The item id the drawer shows. */
  itemId: string;
  /** The list item it was opened from, if it was opened from the list. */
  listItem: ActivityItem | null;
  /** The detail of `itemId` once loaded (never an earlier item's). */
  detail: ActivityDetail | null;
  /** The item id this drawer last recorded an opening for. */
  recorded: string | null;
}

/** What to record now for this opening, or null (already recorded, or not yet known). */
export function openedToRecord({ itemId, listItem, detail, recorded }: Opening): OpenedParams | null {
  if (recorded === itemId) return null;
  if (listItem?.id === itemId) return openedFromItem(listItem);
  return detail ? openedFromDetail(detail) : null;
}
