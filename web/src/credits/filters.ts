/**
 * The Credits usage filters and the URL: the filters live in the query string, so a
 * reload, a shared link or the back button shows the same rows.
 *
 * Dates in the URL are the user's calendar days (YYYY-MM-DD); the API gets the instants
 * where those days begin and end in the user's time zone, so "From 21 Nov" means from
 * local midnight, not UTC midnight.
 */
import type { CreditType, Direction, LedgerQuery, Source } from "../api/client";
import { SOURCE_LABELS } from "../format";

export interface LedgerFilters {
  direction?: Direction;
  type?: CreditType;
  source?: Source;
  /** First local day included, YYYY-MM-DD. */
  from?: string;
  /** Last local day included, YYYY-MM-DD. */
  to?: string;
}

const DIRECTIONS: readonly Direction[] = ["credit", "debit"];
const TYPES: readonly CreditType[] = ["image", "video"];
const SOURCES = Object.keys(SOURCE_LABELS) as Source[];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const KEYS = ["direction", "type", "source", "from", "to"] as const;

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}

function day(value: string | null): string | undefined {
  return value && DAY.test(value) && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

/** The filters a query string asks for; unknown values are dropped rather than sent. */
export function parseLedgerFilters(search: string): LedgerFilters {
  const params = new URLSearchParams(search);
  const filters: LedgerFilters = {
    direction: oneOf(params.get("direction"), DIRECTIONS),
    type: oneOf(params.get("type"), TYPES),
    source: oneOf(params.get("source"), SOURCES),
    from: day(params.get("from")),
    to: day(params.get("to")),
  };
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as LedgerFilters;
}

/** The query string of a set of filters, in a stable order ("" when none). */
export function ledgerSearch(filters: LedgerFilters): string {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Local midnight at the start of a YYYY-MM-DD day, in the runtime's time zone. */
export function localDayStart(day: string): Date {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}

/** The API query for the filters: `from` inclusive, `to` exclusive, as instants. */
export function ledgerQuery(filters: LedgerFilters): LedgerQuery {
  const query: LedgerQuery = { direction: filters.direction, type: filters.type, source: filters.source };
  if (filters.from) query.from = localDayStart(filters.from).toISOString();
  if (filters.to) {
    const end = localDayStart(filters.to);
    end.setDate(end.getDate() + 1);
    query.to = end.toISOString();
  }
  return query;
}

export function hasFilters(filters: LedgerFilters): boolean {
  return KEYS.some((key) => Boolean(filters[key]));
}
