/**
 * Credit blocks as people read them. Every credit opens a block that may expire; a debit
 * records which blocks paid it (`paidBy`), an expiration the block it took, a job's refund
 * where it gave the credits back (`returnedTo`). The balance document keeps the open blocks,
 * so the balance cards tell, live, which credits expire next. Pure functions.
 */
import type { Entry } from "../api/client";
import { count, localDate, monthDay } from "../format";

type Part = Entry["paidBy"][number];

export interface Expiring {
  amount: number;
  expiresAt: string;
}

/** The balance document's open blocks: one JSON text, `{id: {type, remaining, expiresAt, …}}`. */
function openBlocks(data: Record<string, unknown> | undefined): Record<string, Record<string, unknown>> {
  if (typeof data?.blocks !== "string") return {};
  try {
    const parsed: unknown = JSON.parse(data.blocks);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, Record<string, unknown>>) : {};
  } catch {
    return {};
  }
}

/**
 * Per credit type, the credits that expire next and when: the remainders of the unexpired
 * open blocks with the soonest expiry, from the balance document's `blocks`.
 */
export function expiringNext(data: Record<string, unknown> | undefined, now: Date): Record<string, Expiring> {
  const blocks = openBlocks(data);
  const soonest: Record<string, Expiring> = {};
  for (const block of Object.values(blocks)) {
    const expiresAt = typeof block?.expiresAt === "string" ? block.expiresAt : null;
    const type = block?.type;
    const remaining = block?.remaining;
    if (
      !expiresAt ||
      typeof type !== "string" ||
      !Number.isInteger(remaining) ||
      Date.parse(expiresAt) <= now.getTime()
    ) {
      continue;
    }
    const current = soonest[type];
    if (!current || Date.parse(expiresAt) < Date.parse(current.expiresAt)) {
      soonest[type] = { amount: remaining as number, expiresAt };
    } else if (Date.parse(expiresAt) === Date.parse(current.expiresAt)) {
      current.amount += remaining as number;
    }
  }
  return soonest;
}

/** When the open blocks with credits left expire (milliseconds since the epoch), from the balance document. */
export function expiryTimes(data: Record<string, unknown> | undefined): number[] {
  return Object.values(openBlocks(data))
    .filter(
      (block) =>
        typeof block?.expiresAt === "string" && Number.isInteger(block.remaining) && (block.remaining as number) > 0,
    )
    .map((block) => Date.parse(block.expiresAt as string))
    .filter((time) => !Number.isNaN(time));
}

/** Milliseconds until the soonest of these expires (at most a timer's longest wait), or null. */
export function nextChange(expiring: Record<string, Expiring>, now: Date): number | null {
  const times = Object.values(expiring).map((e) => Date.parse(e.expiresAt));
  if (times.length === 0) return null;
  return Math.min(Math.max(0, Math.min(...times) - now.getTime()) + 1000, 2 ** 31 - 1);
}

/** "120 expire on Dec 1, 2026". */
export function expiringText(expiring: Expiring, timeZone?: string): string {
  return `${count(expiring.amount)} expire on ${localDate(expiring.expiresAt, timeZone)}`;
}

/** Which credits one part is: "credits of Nov 2, 2026, expiring Dec 1, 2026", or the opening balance. */
export function blockName(part: Part, timeZone?: string, expired = false): string {
  const granted = part.block.startsWith("opening-")
    ? "credits held before expiry tracking"
    : `credits of ${localDate(part.grantedAt, timeZone)}`;
  if (!part.expiresAt) return `${granted}, no expiry`;
  return `${granted}, ${expired ? "expired" : "expiring"} ${localDate(part.expiresAt, timeZone)}`;
}

/** What an entry did to blocks, as (term, lines) facts for a detail view, with full dates. */
export function blockFacts(entry: Entry, timeZone?: string): { term: string; lines: string[] }[] {
  if (entry.source === "expiration") {
    return [
      {
        term: "Expired",
        lines: entry.paidBy.map((part) => `${count(part.amount)} of ${blockName(part, timeZone, true)}`),
      },
    ];
  }
  if (entry.direction === "debit") {
    const lines = entry.paidBy.map((part) => `${count(part.amount)} from ${blockName(part, timeZone)}`);
    return lines.length ? [{ term: "Paid by", lines }] : [];
  }
  if (entry.returnedTo.length) {
    const lines = entry.returnedTo.map((part) => `${count(part.amount)} to ${blockName(part, timeZone)}`);
    return [{ term: "Returned to", lines }];
  }
  return [{ term: "Expires", lines: [entry.expiresAt ? localDate(entry.expiresAt, timeZone) : "Never"] }];
}

/** A part in a table cell: "Nov 1 credits (30, expire Dec 1)", or "Nov 1 credits (expired Dec 1)". */
function shortPart(part: Part, timeZone?: string, expired = false): string {
  const name = part.block.startsWith("opening-") ? "earlier credits" : `${monthDay(part.grantedAt, timeZone)} credits`;
  const expiry = part.expiresAt ? `${expired ? "expired" : "expire"} ${monthDay(part.expiresAt, timeZone)}` : "";
  const notes = [expired ? "" : count(part.amount), expiry];
  const note = notes.filter(Boolean).join(", ");
  return note ? `${name} (${note})` : name;
}

/** One line for the ledger table ("Paid from Nov 1 credits (30, expire Dec 1), Nov 5 credits (10)"),
 * or null for a credit that never expires. */
export function blockSummary(entry: Entry, timeZone?: string): string | null {
  if (entry.source === "expiration") {
    return `Expired: ${entry.paidBy.map((part) => shortPart(part, timeZone, true)).join(", ")}`;
  }
  if (entry.direction === "debit") {
    return entry.paidBy.length ? `Paid from ${entry.paidBy.map((p) => shortPart(p, timeZone)).join(", ")}` : null;
  }
  if (entry.returnedTo.length) return `Returned to ${entry.returnedTo.map((p) => shortPart(p, timeZone)).join(", ")}`;
  return entry.expiresAt ? `Expires ${localDate(entry.expiresAt, timeZone)}` : null;
}
