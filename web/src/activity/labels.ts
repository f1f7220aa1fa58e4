/** How Activity items read: their headline, their credits, their settings. Pure functions. */
import type { ActivityItem } from "../api/client";
import { count, creditTypeLabel, signed, sourceLabel } from "../format";

export const TYPE_LABELS: Record<ActivityItem["type"], string> = {
  generation_started: "Generation started",
  generation_completed: "Generation completed",
  generation_failed: "Generation failed",
  credits_consumed: "Credits consumed",
  credits_refunded: "Credits refunded",
  credits_purchased: "Credits purchased",
  credits_refreshed: "Credits refreshed",
  credits_adjusted: "Credits adjusted",
  credits_reversed: "Purchase refunded",
  credits_charged_back: "Credits taken back",
  credits_returned: "Credits returned",
  credits_expired: "Credits expired",
  export_requested: "Export requested",
  export_completed: "Export completed",
};

export const ACTION_LABELS: Record<string, string> = {
  consume: "Consume",
  refund: "Refund",
  purchase: "Purchase",
  refresh: "Refresh",
  adjust: "Adjustment",
  reversal: "Reversal",
  chargeback: "Chargeback",
  chargeback_reversal: "Chargeback reversed",
  expiration: "Expiry",
};

/** The credits a generation item carries: "−10 credits", "+10 refunded", or nothing. */
export function generationCredits(item: ActivityItem): { text: string; tone: "debit" | "credit" } | null {
  const credits = item.credits;
  if (!credits) return null;
  if (credits.refunded > 0) return { text: `+${count(credits.refunded)} refunded`, tone: "credit" };
  return { text: `${signed(-credits.charged)} ${plural(credits.charged, "credit")}`, tone: "debit" };
}

/** What a generation cost, for its detail: "−10 image credits, +10 refunded" or "Not charged". */
export function generationCost(credits: ActivityItem["credits"]): string {
  if (!credits) return "Not charged";
  const charged = `${signed(-credits.charged)} ${credits.type} ${plural(credits.charged, "credit")}`;
  return credits.refunded ? `${charged}, ${signed(credits.refunded)} refunded` : charged;
}

/** How the ledger's reason of an automatic top-up's purchase starts ("Automatic top-up: 100 image credits"). */
export const AUTO_TOP_UP_REASON = "Automatic top-up";

/**
 * The headline of a credits item: "Credits refreshed (Pro plan)". A purchase that automatic
 * top-up made leads with that ("Automatic top-up: 100 image credits"), not "Credits purchased".
 */
export function creditsHeadline(item: ActivityItem): string {
  const label = TYPE_LABELS[item.type];
  if (!item.reason) return label;
  if (item.type === "credits_purchased" && item.reason.startsWith(`${AUTO_TOP_UP_REASON}:`)) return item.reason;
  // A reason that already starts with the label ("Credits refreshed (Pro plan)") says it all.
  return item.reason.startsWith(label) ? item.reason : `${label} (${item.reason})`;
}

/** "+300 image credits". */
export function creditsDelta(item: ActivityItem): string {
  const delta = item.delta ?? 0;
  return [signed(delta), item.creditType, plural(delta, "credit")].filter(Boolean).join(" ");
}

export function plural(n: number, word: string): string {
  return Math.abs(n) === 1 ? word : `${word}s`;
}

export function qualityLabel(quality: unknown): string | null {
  return quality === "hq" ? "HQ" : quality === "standard" ? "Standard" : null;
}

export function statusLabel(status: string | undefined): string {
  switch (status) {
    case "completed":
      return "Completed";
    case "failed":
      return "Failed";
    case "processing":
      return "Processing";
    case "queued":
      return "Queued";
    default:
      return status ?? "";
  }
}

/** What an export's filters selected, in words: "Image credits, Purchase, from 2026-11-01". */
export function exportFilters(filters: ActivityItem["filters"]): string {
  const chosen = filters ?? {};
  const parts = [
    chosen.type && `${creditTypeLabel(chosen.type)} credits`,
    chosen.direction && (chosen.direction === "credit" ? "Credits added" : "Credits taken"),
    chosen.source && sourceLabel(chosen.source),
    chosen.from && `from ${chosen.from}`,
    chosen.to && `to ${chosen.to}`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "All entries";
}
