/**
 * A chart.js bar chart in a canvas; only what bar charts use is registered (tree-shaken).
 * Importing this module loads chart.js: import it only from lazily loaded code (the admin
 * Daily summaries tab), so that no first page carries it; `Series` is a type only, free to import.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  name: string;
  values: number[];
  color: string;
  /** `SvgBars` only: series with the same stack are drawn on top of each other, different stacks
   * side by side. */
  stack?: string;
}

export function BarChart({
  label,
  labels,
  series,
  horizontal = false,
}: {
  label: string;
  labels: string[];
  series: Series[];
  horizontal?: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const data = JSON.stringify([labels, series, horizontal]);
  useEffect(() => {
    if (!canvas.current) return;
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({ label: s.name, data: s.values, backgroundColor: s.color, borderRadius: 2 })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : { duration: 250 },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
        scales: {
          [horizontal ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 } },
          [horizontal ? "y" : "x"]: { ticks: { maxRotation: 0, autoSkipPadding: 8 } },
        },
      },
    });
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `data` stands for the three props' values
  }, [data]);
  const height = horizontal ? Math.max(140, labels.length * 34 + 60) : 260;
  return (
    <div className="chart-box" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
