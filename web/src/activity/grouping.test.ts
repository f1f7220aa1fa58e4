import { describe, expect, it } from "vitest";
import { groupByDay } from "./grouping";

describe("groupByDay", () => {
  const now = new Date("2026-11-22T15:00:00Z");
  const items = [
    { id: "a", time: "2026-11-22T14:00:00Z" },
    { id: "b", time: "2026-11-22T02:00:00Z" },
    { id: "c", time: "2026-11-21T20:00:00Z" },
    { id: "d", time: "2026-11-19T08:00:00Z" },
  ];

  it("labels today, yesterday and older dates, keeping the feed's order", () => {
    const groups = groupByDay(items, now, "UTC");
    expect(groups.map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ["Today", ["a", "b"]],
      ["Yesterday", ["c"]],
      ["Thursday, Nov 19, 2026", ["d"]],
    ]);
  });

  it("decides the day in the user's time zone", () => {
    // In Los Angeles (UTC-8) 02:00Z on the 22nd is still the evening of the 21st.
    const groups = groupByDay(items, now, "America/Los_Angeles");
    expect(groups.map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ["Today", ["a"]],
      ["Yesterday", ["b", "c"]],
      ["Thursday, Nov 19, 2026", ["d"]],
    ]);
  });

  it("returns no groups for no items", () => {
    expect(groupByDay([], now, "UTC")).toEqual([]);
  });
});
