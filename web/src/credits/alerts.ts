/**
 * The credit alerts banner's words and decisions, from `GET /api/credits/alerts` (what holds
 * now; docs/alerts.md): a line per credit type whose balance is low, a line when a failed
 * payment turned automatic top-up off, a line per credit type with credits that expire soon,
 * and when to ask again. Pure functions.
 */
import type { ActiveAlerts, AutoTopUpFailure, CreditType } from "../api/client";
import { count, dayKey, localTime, monthDay } from "../format";

export type LowBalanceItem = ActiveAlerts["lowBalance"][number];
export type ExpiringItem = ActiveAlerts["expiringSoon"][number];
export type AutoTopUpOffItem = NonNullable<ActiveAlerts["autoTopUpOff"]>[number];

/** Every credit type of the API (a type added to openapi.yaml fails the type check until it is here). */
const TYPES: Record<CreditType, true> = { image: true, video: true };
export const CREDIT_TYPES = Object.keys(TYPES) as CreditType[];

/** A piece of a line: text, or an instant shown as `text` (the page adds its UTC twin on hover). */
export type Part = string | { iso: string; text: string };

export interface BannerLine {
  /** Stable while the same alert holds: the low-balance alert's id, or the expiring blocks. */
  key: string;
  /** What the line is about: the low-balance alert's id, or each expiring block's id (for dismissing). */
  ids: string[];
  kind: "low_balance" | "auto_top_up_failed" | "expiring_soon";
  parts: Part[];
}

function credits(n: number, type: string): string {
  return `${count(n)} ${type} credit${n === 1 ? "" : "s"}`;
}

/** "Your image credits are low: 12 left, below your alert at 20.", or "You are out of …" at 0. */
export function lowBalanceText(item: Pick<LowBalanceItem, "type" | "balance" | "threshold">): string {
  if (item.balance <= 0) return `You are out of ${item.type} credits (your alert is at ${count(item.threshold)}).`;
  return `Your ${item.type} credits are low: ${count(item.balance)} left, below your alert at ${count(item.threshold)}.`;
}

/** Why a payment failed, after "Automatic top-up is off: " (the banner and the Top up page say it alike). */
export function failureTitle(reason: AutoTopUpFailure): string {
  switch (reason) {
    case "card_declined":
      return "your card was declined";
    case "authentication_required":
      return "your bank asked to confirm the payment";
    case "payment_method_missing":
      return "no card was saved";
    case "payment_provider_unavailable":
      return "the payment service did not answer";
    default:
      return "the payment failed";
  }
}

/** "Automatic top-up is off: your card was declined. Nothing was charged." */
export function autoTopUpOffText(item: Pick<AutoTopUpOffItem, "reason">): string {
  return `Automatic top-up is off: ${failureTitle(item.reason)}. Nothing was charged.`;
}

/** "today at 18:00", "tomorrow at 09:30" or "on Dec 8 at 14:00", in the user's time zone. */
export function whenText(iso: string, now: Date, timeZone?: string): string {
  const day = dayKey(new Date(iso), timeZone);
  const today = dayKey(now, timeZone);
  const tomorrow = dayKey(new Date(now.getTime() + 86_400_000), timeZone);
  const time = localTime(iso, timeZone);
  if (day === today) return `today at ${time}`;
  if (day === tomorrow) return `tomorrow at ${time}`;
  return `on ${monthDay(iso, timeZone)} at ${time}`;
}

/**
 * One line per credit type: the credits that expire first (every block expiring at that same
 * instant added up), then how many more of the type expire within the window, and by when:
 * "40 image credits expire on Dec 8 at 14:00, and 25 more by Dec 10."
 */
export function expiringLines(items: readonly ExpiringItem[], now: Date, timeZone?: string): BannerLine[] {
  const byType = new Map<string, ExpiringItem[]>();
  for (const item of items) {
    if (item.credits <= 0 || Date.parse(item.expiresAt) <= now.getTime()) continue;
    byType.set(item.type, [...(byType.get(item.type) ?? []), item]);
  }
  const lines: { line: BannerLine; first: number }[] = [];
  for (const [type, blocks] of byType) {
    const sorted = [...blocks].sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
    const [head] = sorted;
    if (!head) continue;
    const first = Date.parse(head.expiresAt);
    const amount = sorted.filter((b) => Date.parse(b.expiresAt) === first).reduce((sum, b) => sum + b.credits, 0);
    const later = sorted.filter((b) => Date.parse(b.expiresAt) !== first);
    const parts: Part[] = [
      `${credits(amount, type)} ${amount === 1 ? "expires" : "expire"} `,
      { iso: head.expiresAt, text: whenText(head.expiresAt, now, timeZone) },
    ];
    const last = later.at(-1);
    if (last) {
      const more = later.reduce((sum, b) => sum + b.credits, 0);
      parts.push(`, and ${count(more)} more by `, { iso: last.expiresAt, text: monthDay(last.expiresAt, timeZone) });
    }
    parts.push(".");
    lines.push({
      line: {
        key: `expiring:${type}`,
        ids: sorted.map((b) => `block:${b.blockId}`),
        kind: "expiring_soon",
        parts,
      },
      first,
    });
  }
  return lines.sort((a, b) => a.first - b.first).map((l) => l.line);
}

/**
 * What the banner says, most pressing first: low balances (in the API's type order), automatic
 * top-up turned off by a failed payment (why the balance was not refilled), then expiring
 * credits, soonest first.
 */
export function bannerLines(alerts: ActiveAlerts, now: Date, timeZone?: string): BannerLine[] {
  const low: BannerLine[] = alerts.lowBalance
    .filter((item) => item.balance < item.threshold)
    .map((item) => ({
      key: `low:${item.type}`,
      ids: [`alert:${item.alert.id}`],
      kind: "low_balance",
      parts: [lowBalanceText(item)],
    }));
  const off: BannerLine[] = (alerts.autoTopUpOff ?? []).map((item) => ({
    key: `auto_top_up_off:${item.alert?.id ?? item.at ?? item.reason}`,
    ids: [`alert:${item.alert?.id ?? `auto_top_up_failed:${item.at ?? ""}`}`],
    kind: "auto_top_up_failed",
    parts: [autoTopUpOffText(item)],
  }));
  return [...low, ...off, ...expiringLines(alerts.expiringSoon, now, timeZone)];
}

/**
 * The banner offers Top up when a balance is low, or automatic top-up is off after a failed
 * payment (Top up is where it is turned on again); expiring credits ask to be used, not bought.
 */
export function offersTopUp(lines: readonly BannerLine[]): boolean {
  return lines.some((line) => line.kind === "low_balance" || line.kind === "auto_top_up_failed");
}

/** A line's words as one text (for the tests and for anything that needs plain text). */
export function lineText(line: BannerLine): string {
  return line.parts.map((part) => (typeof part === "string" ? part : part.text)).join("");
}

/** Every id the banner shows now: what dismissing it remembers. */
export function shownIds(lines: readonly BannerLine[]): string[] {
  return lines.flatMap((line) => line.ids);
}

/**
 * Hidden when the user dismissed everything it shows now. A new alert (a new crossing, credits
 * of another block) shows it again; credits spent or topped up (fewer ids) do not.
 */
export function isDismissed(lines: readonly BannerLine[], dismissed: readonly string[]): boolean {
  return lines.length > 0 && shownIds(lines).every((id) => dismissed.includes(id));
}

/**
 * Milliseconds until the banner's answer changes with no write to watch: when credits expire
 * (they leave the banner) or enter the expiring-soon window (`days` before they expire), for
 * the open blocks' expiry times `expiries`; null when none is ahead. At most a timer's longest wait.
 */
export function nextRefresh(expiries: readonly number[], days: number, now: number): number | null {
  const window = days * 86_400_000;
  const ahead = expiries.flatMap((at) => [at - window, at]).filter((at) => at > now);
  if (ahead.length === 0) return null;
  return Math.min(Math.min(...ahead) - now + 1000, 2 ** 31 - 1);
}
