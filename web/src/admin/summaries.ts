/**
 * Daily summaries as chart series and tables. The API's summary documents (docs/operations.md)
 * give per day `byType.{image,video}.{credit,debit}.amount` and
 * `bySource.{source}.{credit|debit}.{image|video}.{amount,count}`; days are UTC days.
 */
import type { CreditType, DailySummary } from "../api/client";
import { utcDay } from "../format";

export const CREDIT_TYPES: readonly CreditType[] = ["image", "video"];

interface Bucket {
  amount?: number;
  count?: number;
}
interface TypeTotals {
  credit?: Bucket;
  debit?: Bucket;
  net?: number;
  entries?: number;
}
type SourceTotals = Partial<Record<"credit" | "debit", Partial<Record<CreditType, Bucket>>>>;

function byType(summary: DailySummary, type: CreditType): TypeTotals {
  const all = (summary as { byType?: Partial<Record<CreditType, TypeTotals>> }).byType;
  return all?.[type] ?? {};
}

function bySource(summary: DailySummary): Record<string, SourceTotals> {
  return (summary as { bySource?: Record<string, SourceTotals> }).bySource ?? {};
}

export interface DailySeries {
  days: string[];
  credit: number[];
  debit: number[];
}

/** Credits and debits of one type per day, in the order of the summaries (oldest first). */
export function dailySeries(summaries: DailySummary[], type: CreditType): DailySeries {
  return {
    days: summaries.map((s) => s.day),
    credit: summaries.map((s) => byType(s, type).credit?.amount ?? 0),
    debit: summaries.map((s) => byType(s, type).debit?.amount ?? 0),
  };
}

export interface SourceRow {
  source: string;
  credit: number;
  debit: number;
}

/** Credits and debits of one type by source over the range; sources with nothing are left out. */
export function sourceRows(summaries: DailySummary[], type: CreditType): SourceRow[] {
  const rows = new Map<string, SourceRow>();
  for (const summary of summaries) {
    for (const [source, directions] of Object.entries(bySource(summary))) {
      const row = rows.get(source) ?? { source, credit: 0, debit: 0 };
      row.credit += directions.credit?.[type]?.amount ?? 0;
      row.debit += directions.debit?.[type]?.amount ?? 0;
      rows.set(source, row);
    }
  }
  return [...rows.values()]
    .filter((row) => row.credit > 0 || row.debit > 0)
    .sort((a, b) => b.credit + b.debit - (a.credit + a.debit) || a.source.localeCompare(b.source));
}

export interface RangeTotals {
  credit: number;
  debit: number;
  net: number;
  entries: number;
}

/** Totals of one type over the range. */
export function rangeTotals(summaries: DailySummary[], type: CreditType): RangeTotals {
  const totals = { credit: 0, debit: 0, net: 0, entries: 0 };
  for (const summary of summaries) {
    const t = byType(summary, type);
    totals.credit += t.credit?.amount ?? 0;
    totals.debit += t.debit?.amount ?? 0;
    totals.entries += t.entries ?? (t.credit?.count ?? 0) + (t.debit?.count ?? 0);
  }
  totals.net = totals.credit - totals.debit;
  return totals;
}

/** The default range: the 30 UTC days up to yesterday (today has no summary yet). */
export function defaultRange(now: Date): { from: string; to: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1));
  const from = new Date(to);
  from.setUTCDate(from.getUTCDate() - 29);
  return { from: utcDay(from), to: utcDay(to) };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function parseRange(search: string, now: Date): { from: string; to: string } {
  const params = new URLSearchParams(search);
  const fallback = defaultRange(now);
  const from = params.get("from");
  const to = params.get("to");
  return {
    from: from && DAY.test(from) ? from : fallback.from,
    to: to && DAY.test(to) ? to : fallback.to,
  };
}
