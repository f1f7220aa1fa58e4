/**
 * A chart.js bar chart in a canvas; only what bar charts use is registered (tree-shaken).
 * Importing this module loads chart.js: import it only from lazily loaded code (the admin
 * Daily summaries tab, the usage chart of Credits usage), so that no first page carries it.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  name: string;
  values: number[];
  color: string;
  /** Series with the same stack are drawn on top of each other; different stacks side by side.
   * Without any stack, series are drawn side by side. */
  stack?: string;
}

export function BarChart({
  label,
  labels,
  series,
  horizontal = false,
  height,
}: {
  label: string;
  labels: string[];
  series: Series[];
  horizontal?: boolean;
  /** The box's height (CSS); by default 260 px, or what the bars of a horizontal chart need. */
  height?: number | string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const data = JSON.stringify([labels, series, horizontal]);
  useEffect(() => {
    if (!canvas.current) return;
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const stacked = series.some((s) => s.stack !== undefined);
    const stacks = new Set(series.map((s) => s.stack)).size;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({
          label: s.name,
          data: s.values,
          backgroundColor: s.color,
          borderRadius: 2,
          stack: s.stack,
          // A thin white line between the parts of one stack.
          ...(stacked && stacks < series.length ? { borderColor: "#ffffff", borderWidth: { top: 1 } } : {}),
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : { duration: 250 },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
        scales: {
          [horizontal ? "x" : "y"]: { beginAtZero: true, stacked, ticks: { precision: 0 } },
          [horizontal ? "y" : "x"]: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 8 } },
        },
      },
    });
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `data` stands for the three props' values
  }, [data]);
  const boxHeight = height ?? (horizontal ? Math.max(140, labels.length * 34 + 60) : 260);
  return (
    <div className="chart-box" style={{ height: boxHeight }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
