/** Formatting of credits, times and the ledger's vocabulary for people. Pure functions. */
import type { Source } from "./api/client";

/** "+300" or "-10": a signed whole number of credits. */
export function signed(delta: number): string {
  return `${delta > 0 ? "+" : delta < 0 ? "−" : ""}${Math.abs(delta).toLocaleString("en-US")}`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export const SOURCE_LABELS: Record<Source, string> = {
  text2image: "Text to image",
  image2image: "Image to image",
  text2video: "Text to video",
  image2video: "Image to video",
  purchase: "Purchase",
  subscription_grant: "Plan refresh",
  refund: "Refund",
  admin_adjustment: "Adjustment by support",
  purchase_reversal: "Purchase refunded",
  chargeback: "Payment disputed",
  chargeback_reversal: "Dispute won",
  expiration: "Credits expired",
};

export function sourceLabel(source: string): string {
  return SOURCE_LABELS[source as Source] ?? source;
}

/** "Image", "Video": a credit type's name as a label. */
export function creditTypeLabel(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * One formatter per locale and options (time zone included), made on first use: making an
 * `Intl.DateTimeFormat` costs far more than formatting with one, and a page of 50 rows
 * formats at least 50 times.
 */
function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, options);
    dateFormats.set(key, format);
  }
  return format;
}

/** The local date and time of an instant, e.g. "Nov 22, 2026, 14:12". */
export function localDateTime(iso: string, timeZone?: string): string {
  return dateFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

/** The local time of day, e.g. "14:12". */
export function localTime(iso: string, timeZone?: string): string {
  return dateFormat("en-US", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** The same instant in UTC, to the second: "2026-11-22 14:12:05 UTC". */
export function utcDateTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The local date of an instant, e.g. "Dec 1, 2026". */
export function localDate(iso: string, timeZone?: string): string {
  return dateFormat("en-US", { timeZone, year: "numeric", month: "short", day: "numeric" }).format(new Date(iso));
}

/** The local month and day of an instant, e.g. "Dec 1". */
export function monthDay(iso: string, timeZone?: string): string {
  return dateFormat("en-US", { timeZone, month: "short", day: "numeric" }).format(new Date(iso));
}

/** The calendar day of an instant in a time zone, as YYYY-MM-DD. */
export function dayKey(instant: Date, timeZone?: string): string {
  return dateFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant);
}

/** The UTC day of an instant, YYYY-MM-DD. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** What a ledger entry's meta says about the work it paid for: "5 images · HQ · flux-pro · 9:16". */
export function metaSummary(meta: Record<string, unknown>): string {
  const parts: string[] = [];
  const numImages = meta.numImages;
  const duration = meta.durationSec;
  if (typeof numImages === "number") parts.push(`${numImages} image${numImages === 1 ? "" : "s"}`);
  if (typeof duration === "number") parts.push(`${duration} s video`);
  if (meta.quality === "hq") parts.push("HQ");
  else if (meta.quality === "standard") parts.push("Standard");
  for (const name of ["model", "resolution", "aspectRatio", "pack", "plan"]) {
    const value = meta[name];
    if (typeof value === "string" && value) parts.push(value);
  }
  return parts.join(" · ");
}
