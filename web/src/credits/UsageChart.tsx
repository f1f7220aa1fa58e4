/**
 * The usage chart's canvas: credits spent per day, each credit type a bar of its own, or
 * with "By source" each type's job sources stacked. A chunk of its own with chart.js,
 * loaded by `UsagePanel`; its numbers are the table under "Show as table".
 */
import type { Usage } from "../api/client";
import { BarChart } from "../ui/BarChart";
import { type Breakdown, dayLabel, usageSeries } from "./usage";

export default function UsageChart({ usage, by, label }: { usage: Usage; by: Breakdown; label: string }) {
  return (
    <BarChart
      label={`${label}, ${by === "source" ? "by source" : "by credit type"}; the numbers are in the table under "Show as table"`}
      labels={usage.days.map((d) => dayLabel(d.day))}
      series={usageSeries(usage, by)}
      height="100%"
    />
  );
}
