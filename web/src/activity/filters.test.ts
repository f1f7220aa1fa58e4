import { describe, expect, it } from "vitest";
import { activitySearch, parseActivityFilters } from "./filters";

describe("activity filters in the URL", () => {
  it("defaults to the last 30 days of everything", () => {
    expect(parseActivityFilters("")).toEqual({ range: "30d", type: "all" });
    expect(activitySearch({ range: "30d", type: "all" })).toBe("");
  });

  it("round-trips chosen filters and ignores unknown values", () => {
    const filters = parseActivityFilters("?range=7d&type=generation&influencer=inf-luna");
    expect(filters).toEqual({ range: "7d", type: "generation", influencerId: "inf-luna" });
    expect(parseActivityFilters(activitySearch(filters))).toEqual(filters);
    expect(parseActivityFilters("?range=1y&type=everything")).toEqual({ range: "30d", type: "all" });
  });
});
