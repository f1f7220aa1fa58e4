/**
 * The usage chart: credits spent per day, each credit type a bar of its own, or with "By
 * source" each type's job sources stacked. Drawn as SVG (`ui/SvgBars`), with no chart library,
 * so that Credits usage stays a light first page; a chunk of its own, loaded by `UsagePanel`.
 * Its numbers are the table under "Show as table".
 */
import type { Usage } from "../api/client";
import { SvgBars } from "../ui/SvgBars";
import { type Breakdown, dayLabel, usageSeries } from "./usage";

export default function UsageChart({ usage, by, label }: { usage: Usage; by: Breakdown; label: string }) {
  return (
    <SvgBars
      label={`${label}, ${by === "source" ? "by source" : "by credit type"}; the numbers are in the table under "Show as table"`}
      labels={usage.days.map((d) => dayLabel(d.day))}
      series={usageSeries(usage, by)}
    />
  );
}
