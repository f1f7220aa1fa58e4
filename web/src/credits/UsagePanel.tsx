/**
 * Credits usage's chart of credits spent per UTC day, with its numbers as a table (the text
 * alternative of the canvas) under the disclosure "Show as table". The data is asked for at
 * once; the chart's code and chart.js are a chunk of their own (`UsageChart`), loaded while
 * the data is on its way. Every part has its final size from the first frame (the chart's
 * box, the totals, the disclosure), so nothing below moves when the data or the code arrive.
 */
import { useEffect, useState } from "react";
import { ApiError, type Usage, api } from "../api/client";
import { count } from "../format";
import { loadable } from "../ui/loadable";
import type { LedgerFilters } from "./filters";
import {
  type Breakdown,
  type UsageRange,
  dayLabel,
  fullDayLabel,
  nothingSpent,
  rangeLabel,
  usageColumns,
  usageRange,
  usageTotals,
} from "./usage";

const CHART_LABEL = "Credits spent per day";

function ChartSkeleton() {
  return (
    <div className="usage-chart-skeleton skeleton" role="status">
      <span className="sr-only">Loading the chart</span>
    </div>
  );
}

const UsageChart = loadable(() => import("./UsageChart"), <ChartSkeleton />);

type Loaded = { key: string; by: Breakdown } & (
  { status: "ready"; data: Usage } | { status: "error"; error: ApiError }
);

/** The answer for the range and breakdown, the one before it while a new one loads, and whether one is on its way. */
function useUsage(range: UsageRange | null, by: Breakdown, enabled: boolean): { loaded: Loaded | null; busy: boolean } {
  const key = range && enabled ? `${range.from}|${range.to}|${by}` : "";
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    if (!range || !enabled) return;
    let live = true;
    api.usage({ from: range.from, to: range.to, by }).then(
      (data) => live && setLoaded({ key, by, status: "ready", data }),
      (error: unknown) =>
        live &&
        setLoaded({
          key,
          by,
          status: "error",
          error: error instanceof ApiError ? error : new ApiError(0, "network", "The server could not be reached."),
        }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for the range and `by`
  }, [key]);
  if (!range) return { loaded: null, busy: false };
  if (!enabled) return { loaded: null, busy: true };
  if (loaded?.key === key) return { loaded, busy: false };
  // Switching the breakdown keeps the last chart of the same days on screen until the new one arrives.
  const sameDays = loaded?.status === "ready" && loaded.data.from === range.from && loaded.data.to === range.to;
  return { loaded: sameDays ? loaded : null, busy: true };
}

/**
 * `start`: ask for the data from then on. The page passes "the ledger's first page is in", so
 * the chart's request never competes with the table's (a function instance serves one request
 * at a time; docs/web.md, "Performance"); the chart's code loads meanwhile.
 */
export function UsagePanel({ filters, start }: { filters: LedgerFilters; start: boolean }) {
  const [now] = useState(() => new Date());
  const [started, setStarted] = useState(start);
  if (start && !started) setStarted(true);
  const range = usageRange(filters, now);
  const [by, setBy] = useState<Breakdown>("type");
  const { loaded, busy } = useUsage(range, by, started);
  // The chart's code loads while the data is on its way.
  useEffect(() => void UsageChart.preload().catch(() => undefined), []);
  const data = loaded?.status === "ready" ? loaded.data : null;

  let chart: React.ReactNode;
  if (!range) chart = <p className="usage-message">Choose a From day on or before To to see the chart.</p>;
  else if (loaded?.status === "error") chart = <p className="usage-message error-text">{loaded.error.message}</p>;
  else if (!data) chart = <ChartSkeleton />;
  else if (nothingSpent(data))
    chart = <p className="usage-message">No credits were spent on generations in these days.</p>;
  else
    chart = (
      <UsageChart usage={data} by={loaded?.by ?? by} label={`${CHART_LABEL}, ${rangeLabel(data.from, data.to)}`} />
    );

  return (
    <section className="panel usage-panel" aria-labelledby="usage-heading" aria-busy={busy}>
      <div className="usage-header">
        <h2 id="usage-heading">{CHART_LABEL}</h2>
        <p className="usage-range">
          {range ? `${rangeLabel(range.from, range.to)} · UTC days` : "No days selected"}
          {range?.clipped && " · the last 90 days of your range"}
        </p>
        <button
          type="button"
          className="button button-small toggle-button"
          aria-pressed={by === "source"}
          onClick={() => setBy(by === "source" ? "type" : "source")}
        >
          By source
        </button>
      </div>
      <UsageTotals data={data} />
      <div className={`usage-chart${busy && data ? " usage-stale" : ""}`}>{chart}</div>
      <details className="usage-details">
        <summary>Show as table</summary>
        {data ? (
          <UsageTable data={data} by={loaded?.by ?? by} />
        ) : (
          <p className="muted">{range ? "Loading the numbers…" : "No days selected."}</p>
        )}
      </details>
    </section>
  );
}

/** Per credit type, the range's credits spent and refunded: one line each, skeletons of the same size while loading. */
function UsageTotals({ data }: { data: Usage | null }) {
  const totals = data ? usageTotals(data) : null;
  return (
    <dl className="usage-totals">
      {(totals ?? PLACEHOLDER_TOTALS).map((total) => (
        <div key={total.type}>
          <dt>{total.label}</dt>
          <dd>
            {totals ? (
              <>
                <strong>{total.spent}</strong>
                <span className="usage-refunded"> · {total.refunded}</span>
              </>
            ) : (
              <span className="skeleton usage-totals-skeleton" aria-hidden="true" />
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

const PLACEHOLDER_TOTALS = [
  { type: "image", label: "Image credits", spent: "", refunded: "" },
  { type: "video", label: "Video credits", spent: "", refunded: "" },
];

/** The chart's numbers: a row per day, a column per series, and the range's totals. */
function UsageTable({ data, by }: { data: Usage; by: Breakdown }) {
  const columns = usageColumns(data, by);
  return (
    // A region of its own that takes focus, so that a keyboard can scroll it sideways where the
    // columns are wider than a phone's screen.
    <div className="usage-table-wrap" role="region" aria-label="Table of credits spent per day" tabIndex={0}>
      <table className={`summary-table usage-table usage-table-${by}`} aria-label={CHART_LABEL}>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {columns.map((column) => (
              <th scope="col" className="num" key={column.header}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.days.map((day, row) => (
            <tr key={day.day}>
              <th scope="row">
                <time dateTime={day.day} title={fullDayLabel(day.day)}>
                  {dayLabel(day.day)}
                </time>
              </th>
              {columns.map((column) => {
                const value = column.values[row] ?? 0;
                return (
                  <td className={value ? "num" : "num zero"} key={column.header}>
                    {count(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            {columns.map((column) => (
              <td className="num" key={column.header}>
                {count(column.total)}
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
