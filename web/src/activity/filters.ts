/** The Activity filters and the URL (`?range=7d&type=generation&influencer=inf-luna`). */

export type Range = "7d" | "30d" | "all";
export type Kind = "all" | "generation" | "credits" | "export";

export interface ActivityFilters {
  range: Range;
  type: Kind;
  influencerId?: string;
}

export const RANGE_LABELS: Record<Range, string> = { "7d": "Last 7 days", "30d": "Last 30 days", all: "All time" };
export const KIND_LABELS: Record<Kind, string> = {
  all: "All",
  generation: "Generation",
  credits: "Credits",
  export: "Exports",
};
export const DEFAULT_FILTERS: ActivityFilters = { range: "30d", type: "all" };

export function parseActivityFilters(search: string): ActivityFilters {
  const params = new URLSearchParams(search);
  const range = params.get("range");
  const type = params.get("type");
  const influencer = params.get("influencer");
  return {
    range: range && range in RANGE_LABELS ? (range as Range) : DEFAULT_FILTERS.range,
    type: type && type in KIND_LABELS ? (type as Kind) : DEFAULT_FILTERS.type,
    ...(influencer ? { influencerId: influencer.slice(0, 128) } : {}),
  };
}

/** The query string of the filters; defaults are left out so the plain URL stays plain. */
export function activitySearch(filters: ActivityFilters): string {
  const params = new URLSearchParams();
  if (filters.range !== DEFAULT_FILTERS.range) params.set("range", filters.range);
  if (filters.type !== DEFAULT_FILTERS.type) params.set("type", filters.type);
  if (filters.influencerId) params.set("influencer", filters.influencerId);
  const text = params.toString();
  return text ? `?${text}` : "";
}
