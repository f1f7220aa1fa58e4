/**
 * The usage chart of Credits usage: credits spent per UTC day, from `GET /api/credits/usage`.
 *
 * "Spent" is what generations were charged (the debits of job sources); refunds of failed
 * generations are counted beside it on the day they were written, never subtracted
 * (docs/web.md, "The usage chart"). The range is the page's From and To filters, read as
 * UTC days; without them the 30 days up to today (UTC); at most 90 days, the last 90 of a
 * longer range. Pure functions: the range, the chart's series, the table's columns, the totals.
 */
import type { CreditType, Source, Usage } from "../api/client";
import { count, creditTypeLabel, sourceLabel, utcDay } from "../format";
import type { Series } from "../ui/BarChart";

export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 90;

export type Breakdown = "type" | "source";

export interface UsageRange {
  /** First UTC day, YYYY-MM-DD. */
  from: string;
  /** Last UTC day, YYYY-MM-DD. */
  to: string;
  /** The filters asked for more than MAX_DAYS days: these are the last of them. */
  clipped: boolean;
}

const DAY_MS = 86_400_000;

/** A YYYY-MM-DD day moved by `days` (UTC calendar arithmetic). */
export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * The chart's days for the page's From and To filters (YYYY-MM-DD): To, or today in UTC;
 * From, or 29 days before To; at most the last MAX_DAYS. Null when From is after To.
 */
export function usageRange(filters: { from?: string; to?: string }, now: Date): UsageRange | null {
  const to = filters.to ?? utcDay(now);
  const from = filters.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) return null;
  if (daysBetween(from, to) > MAX_DAYS) return { from: addDays(to, -(MAX_DAYS - 1)), to, clipped: true };
  return { from, to, clipped: false };
}

const MONTH_DAY = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" });
const FULL_DAY = new Intl.DateTimeFormat("en-US", {
  timeZone: "UTC",
  year: "numeric",
  month: "short",
  day: "numeric",
});

/** "Nov 6": a day's label on the chart. */
export function dayLabel(day: string): string {
  return MONTH_DAY.format(new Date(`${day}T00:00:00Z`));
}

/** "Nov 6, 2026": a day in the table. */
export function fullDayLabel(day: string): string {
  return FULL_DAY.format(new Date(`${day}T00:00:00Z`));
}

/** "Nov 6 – Dec 5, 2026", or "Dec 30, 2025 – Jan 5, 2026" across a year; one day alone. */
export function rangeLabel(from: string, to: string): string {
  if (from === to) return fullDayLabel(to);
  const sameYear = from.slice(0, 4) === to.slice(0, 4);
  return `${sameYear ? dayLabel(from) : fullDayLabel(from)} – ${fullDayLabel(to)}`;
}

/** The colours of the bars: a hue per credit type, a shade per source of that type. */
const TYPE_COLORS: Record<string, string[]> = {
  image: ["#4338ca", "#7c83f2", "#312e81"],
  video: ["#0f766e", "#2bb3a3", "#134e4a"],
};
const OTHER_COLORS = ["#b45309", "#d97706", "#92400e"];

function colors(type: string): string[] {
  return TYPE_COLORS[type] ?? OTHER_COLORS;
}

/** The job sources of each credit type, in the API's order. */
function sourcesOf(usage: Usage, type: CreditType): Source[] {
  return usage.sources.filter((s) => s.type === type).map((s) => s.source);
}

/** The bars: per credit type side by side; by source, each type's sources stacked. */
export function usageSeries(usage: Usage, by: Breakdown): Series[] {
  if (by === "type") {
    return usage.types.map((type) => ({
      name: `${creditTypeLabel(type)} credits`,
      values: usage.days.map((d) => d.spent[type]),
      color: colors(type)[0] ?? "#4338ca",
      stack: type,
    }));
  }
  return usage.types.flatMap((type) =>
    sourcesOf(usage, type).map((source, i) => ({
      name: sourceLabel(source),
      values: usage.days.map((d) => d.bySource[source] ?? 0),
      color: colors(type)[i % 3] ?? "#4338ca",
      stack: type,
    })),
  );
}

export interface UsageColumn {
  header: string;
  values: number[];
  total: number;
}

/**
 * The table's columns after the day: by type, each type's credits spent and refunded; by
 * source, the spending of each job source, then each type's refunds.
 */
export function usageColumns(usage: Usage, by: Breakdown): UsageColumn[] {
  const column = (header: string, values: number[]): UsageColumn => ({
    header,
    values,
    total: values.reduce((a, b) => a + b, 0),
  });
  const refunds = usage.types.map((type) =>
    column(
      `${creditTypeLabel(type)} refunded`,
      usage.days.map((d) => d.refunded[type]),
    ),
  );
  if (by === "type") {
    return usage.types.flatMap((type, i) => [
      column(
        `${creditTypeLabel(type)} spent`,
        usage.days.map((d) => d.spent[type]),
      ),
      refunds[i] as UsageColumn,
    ]);
  }
  const sources = usage.types.flatMap((type) =>
    sourcesOf(usage, type).map((source) =>
      column(
        sourceLabel(source),
        usage.days.map((d) => d.bySource[source] ?? 0),
      ),
    ),
  );
  return [...sources, ...refunds];
}

export interface TypeTotal {
  type: CreditType;
  label: string;
  spent: string;
  refunded: string;
}

/** Per credit type, the range's credits spent and refunded, as words: "22 spent", "4 refunded". */
export function usageTotals(usage: Usage): TypeTotal[] {
  return usage.types.map((type) => {
    const refunded = usage.totals.refunded[type];
    return {
      type,
      label: `${creditTypeLabel(type)} credits`,
      spent: `${count(usage.totals.spent[type])} spent`,
      refunded: refunded ? `${count(refunded)} refunded` : "none refunded",
    };
  });
}

/** True when no generation was charged in the range (the chart says so instead of drawing nothing). */
export function nothingSpent(usage: Usage): boolean {
  return usage.types.every((type) => usage.totals.spent[type] === 0);
}
