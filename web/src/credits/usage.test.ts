import { describe, expect, it } from "vitest";
import type { Usage } from "../api/client";
import {
  addDays,
  dayLabel,
  nothingSpent,
  rangeLabel,
  usageColumns,
  usageRange,
  usageSeries,
  usageTotals,
} from "./usage";

const NOW = new Date("2026-12-05T02:30:00Z");

function usage(days: Usage["days"], by: Usage["by"] = "type"): Usage {
  const sum = (pick: (d: Usage["days"][number]) => number) => days.reduce((a, d) => a + pick(d), 0);
  const sources = ["text2image", "image2image", "text2video", "image2video"] as const;
  return {
    from: days[0]?.day ?? "2026-12-01",
    to: days[days.length - 1]?.day ?? "2026-12-01",
    by,
    types: ["image", "video"],
    sources: [
      { source: "text2image", type: "image" },
      { source: "image2image", type: "image" },
      { source: "text2video", type: "video" },
      { source: "image2video", type: "video" },
    ],
    days,
    totals: {
      spent: { image: sum((d) => d.spent.image), video: sum((d) => d.spent.video) },
      refunded: { image: sum((d) => d.refunded.image), video: sum((d) => d.refunded.video) },
      bySource: by === "source" ? Object.fromEntries(sources.map((s) => [s, sum((d) => d.bySource[s] ?? 0)])) : {},
    },
    readTime: "2026-12-05T02:30:00Z",
    aggregations: 1 + days.length * 4,
  };
}

const DEC_3: Usage["days"][number] = {
  day: "2026-12-03",
  spent: { image: 14, video: 8 },
  refunded: { image: 4, video: 0 },
  bySource: { text2image: 10, image2image: 4, text2video: 8, image2video: 0 },
};
const DAYS: Usage["days"] = [
  DEC_3,
  {
    day: "2026-12-04",
    spent: { image: 0, video: 16 },
    refunded: { image: 0, video: 16 },
    bySource: { text2image: 0, image2image: 0, text2video: 0, image2video: 16 },
  },
];

describe("the usage chart's range", () => {
  it("is the 30 UTC days up to today without filters", () => {
    // 02:30 UTC on Dec 5 is still Dec 4 west of UTC: the chart's days are UTC days all the same.
    expect(usageRange({}, NOW)).toEqual({ from: "2026-11-06", to: "2026-12-05", clipped: false });
  });

  it("follows the page's From and To", () => {
    expect(usageRange({ from: "2026-11-20", to: "2026-11-30" }, NOW)).toEqual({
      from: "2026-11-20",
      to: "2026-11-30",
      clipped: false,
    });
    expect(usageRange({ to: "2026-03-01" }, NOW)).toEqual({ from: "2026-01-31", to: "2026-03-01", clipped: false });
    expect(usageRange({ from: "2026-12-01" }, NOW)).toEqual({ from: "2026-12-01", to: "2026-12-05", clipped: false });
  });

  it("keeps the last 90 days of a longer range and refuses a reversed one", () => {
    expect(usageRange({ from: "2026-09-07", to: "2026-12-05" }, NOW)?.clipped).toBe(false);
    expect(usageRange({ from: "2026-01-01", to: "2026-12-05" }, NOW)).toEqual({
      from: "2026-09-07",
      to: "2026-12-05",
      clipped: true,
    });
    expect(usageRange({ from: "2026-12-02", to: "2026-12-01" }, NOW)).toBeNull();
  });

  it("counts days in UTC across months, years and leap days", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(addDays("2026-03-29", 1)).toBe("2026-03-30"); // a DST change in Europe: still one day
  });

  it("names days and ranges", () => {
    expect(dayLabel("2026-11-06")).toBe("Nov 6");
    expect(rangeLabel("2026-11-06", "2026-12-05")).toBe("Nov 6 – Dec 5, 2026");
    expect(rangeLabel("2025-12-30", "2026-01-05")).toBe("Dec 30, 2025 – Jan 5, 2026");
    expect(rangeLabel("2026-12-05", "2026-12-05")).toBe("Dec 5, 2026");
  });
});

describe("the usage chart's series, table and totals", () => {
  it("draws a bar per credit type, or each type's sources stacked", () => {
    const byType = usageSeries(usage(DAYS), "type");
    expect(byType.map((s) => [s.name, s.values, s.stack])).toEqual([
      ["Image credits", [14, 0], "image"],
      ["Video credits", [8, 16], "video"],
    ]);
    const bySource = usageSeries(usage(DAYS, "source"), "source");
    expect(bySource.map((s) => [s.name, s.values, s.stack])).toEqual([
      ["Text to image", [10, 0], "image"],
      ["Image to image", [4, 0], "image"],
      ["Text to video", [8, 0], "video"],
      ["Image to video", [0, 16], "video"],
    ]);
    expect(new Set(bySource.map((s) => s.color)).size).toBe(4);
  });

  it("tabulates spending and refunds with totals", () => {
    expect(usageColumns(usage(DAYS), "type")).toEqual([
      { header: "Image spent", values: [14, 0], total: 14 },
      { header: "Image refunded", values: [4, 0], total: 4 },
      { header: "Video spent", values: [8, 16], total: 24 },
      { header: "Video refunded", values: [0, 16], total: 16 },
    ]);
    expect(usageColumns(usage(DAYS, "source"), "source").map((c) => [c.header, c.total])).toEqual([
      ["Text to image", 10],
      ["Image to image", 4],
      ["Text to video", 8],
      ["Image to video", 16],
      ["Image refunded", 4],
      ["Video refunded", 16],
    ]);
  });

  it("says the totals per type in words", () => {
    expect(usageTotals(usage(DAYS))).toEqual([
      { type: "image", label: "Image credits", spent: "14 spent", refunded: "4 refunded" },
      { type: "video", label: "Video credits", spent: "24 spent", refunded: "16 refunded" },
    ]);
    const quiet = usage([{ ...DEC_3, spent: { image: 0, video: 0 }, refunded: { image: 0, video: 0 } }]);
    expect(usageTotals(quiet)[0]?.refunded).toBe("none refunded");
    expect(nothingSpent(quiet)).toBe(true);
    expect(nothingSpent(usage(DAYS))).toBe(false);
  });
});
