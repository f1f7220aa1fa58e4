/**
 * The admin Daily summaries tab: a date range, charts of credits vs debits per day and by
 * source for each credit type, each with its numbers in a table under a disclosure (a canvas
 * says nothing to assistive technology), and the range's totals. Loaded lazily with chart.js.
 */
import { useEffect, useState } from "react";
import { ApiError, type CreditType, type Summaries, adminApi } from "../api/client";
import { count, creditTypeLabel, sourceLabel } from "../format";
import { navigate } from "../router";
import { DateRangeFields, Spinner } from "../ui/bits";
import { BarChart } from "../ui/BarChart";
import { AdminError } from "./NotAllowed";
import { CREDIT_TYPES, dailySeries, parseRange, rangeTotals, sourceRows } from "./summaries";
import { tabPath } from "./tabs";

type Loaded = { key: string } & (
  { status: "loading" } | { status: "ready"; data: Summaries } | { status: "error"; error: ApiError }
);

export default function SummariesTab({ search }: { search: string }) {
  const [now] = useState(() => new Date());
  const range = parseRange(search, now);
  const key = `${range.from}|${range.to}`;
  const [loaded, setLoaded] = useState<Loaded>({ key, status: "loading" });
  useEffect(() => {
    let live = true;
    adminApi.summaries(range.from, range.to).then(
      (data) => live && setLoaded({ key, status: "ready", data }),
      (error: unknown) =>
        live &&
        setLoaded({
          key,
          status: "error",
          error: error instanceof ApiError ? error : new ApiError(0, "network", "The server could not be reached."),
        }),
    );
    return () => {
      live = false;
    };
  }, [key, range.from, range.to]);

  function setRange(next: { from: string; to: string }) {
    navigate(tabPath("summaries", `?from=${next.from}&to=${next.to}`), { replace: true });
  }

  const state: Loaded = loaded.key === key ? loaded : { key, status: "loading" };
  if (state.status === "error" && state.error.code === "permission_denied") return <AdminError error={state.error} />;
  return (
    <section className="panel" aria-labelledby="admin-summaries-heading">
      <div className="panel-header">
        <h2 id="admin-summaries-heading">Daily summaries</h2>
      </div>
      <form className="filters" aria-label="Date range" onSubmit={(e) => e.preventDefault()}>
        <DateRangeFields
          from={range.from}
          to={range.to}
          onChange={(field, value) => value && setRange({ ...range, [field]: value })}
        />
      </form>
      <p className="muted">Days are UTC days. A day&apos;s summary is built shortly after it ends.</p>
      {state.status === "loading" && <Spinner label="Loading the summaries" />}
      {state.status === "error" && <AdminError error={state.error} />}
      {state.status === "ready" && <SummaryBody data={state.data} />}
    </section>
  );
}

function SummaryBody({ data }: { data: Summaries }) {
  const summaries = data.summaries;
  if (summaries.length === 0) {
    return (
      <div className="empty">
        <p className="empty-title">No summaries for these days</p>
      </div>
    );
  }
  return (
    <>
      <Totals data={data} />
      {CREDIT_TYPES.map((type) => (
        <TypeCharts key={type} type={type} data={data} />
      ))}
    </>
  );
}

function Totals({ data }: { data: Summaries }) {
  return (
    <div className="table-wrap">
      <table className="summary-table" aria-label="Totals for the range">
        <caption>
          Totals from {data.from} to {data.to} ({data.summaries.length} {data.summaries.length === 1 ? "day" : "days"})
        </caption>
        <thead>
          <tr>
            <th scope="col">Credit type</th>
            <th scope="col" className="num">
              Credits
            </th>
            <th scope="col" className="num">
              Debits
            </th>
            <th scope="col" className="num">
              Net
            </th>
            <th scope="col" className="num">
              Entries
            </th>
          </tr>
        </thead>
        <tbody>
          {CREDIT_TYPES.map((type) => {
            const t = rangeTotals(data.summaries, type);
            return (
              <tr key={type}>
                <th scope="row">{creditTypeLabel(type)}</th>
                <td className="num">{count(t.credit)}</td>
                <td className="num">{count(t.debit)}</td>
                <td className="num">{count(t.net)}</td>
                <td className="num">{count(t.entries)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function TypeCharts({ type, data }: { type: CreditType; data: Summaries }) {
  const label = creditTypeLabel(type);
  const daily = dailySeries(data.summaries, type);
  const sources = sourceRows(data.summaries, type);
  return (
    <div className="chart-pair">
      <ChartFigure
        title={`${label} credits vs debits per day`}
        rowHeader="Day"
        rows={daily.days.map((day, i) => ({ label: day, credit: daily.credit[i] ?? 0, debit: daily.debit[i] ?? 0 }))}
      />
      <ChartFigure
        title={`${label} credits by source`}
        rowHeader="Source"
        rows={sources.map((s) => ({ label: sourceLabel(s.source), credit: s.credit, debit: s.debit }))}
        horizontal
        empty={`No ${type} credits moved in this range.`}
      />
    </div>
  );
}

interface ChartRow {
  label: string;
  credit: number;
  debit: number;
}

/** A chart of credits vs debits, with its numbers in a table under a disclosure (its text alternative). */
function ChartFigure({
  title,
  rowHeader,
  rows,
  horizontal = false,
  empty,
}: {
  title: string;
  rowHeader: string;
  rows: ChartRow[];
  horizontal?: boolean;
  empty?: string;
}) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 && empty ? (
        <p className="muted">{empty}</p>
      ) : (
        <>
          <BarChart
            label={`${title}, chart; the numbers are in the table below`}
            labels={rows.map((r) => r.label)}
            series={[
              { name: "Credits", values: rows.map((r) => r.credit), color: "#0f7b45" },
              { name: "Debits", values: rows.map((r) => r.debit), color: "#b42318" },
            ]}
            horizontal={horizontal}
          />
          <details>
            <summary>Show the numbers: {title.toLowerCase()}</summary>
            <div className="table-wrap">
              <table className="summary-table" aria-label={title}>
                <thead>
                  <tr>
                    <th scope="col">{rowHeader}</th>
                    <th scope="col" className="num">
                      Credits
                    </th>
                    <th scope="col" className="num">
                      Debits
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.label}>
                      <th scope="row">{r.label}</th>
                      <td className="num">{count(r.credit)}</td>
                      <td className="num">{count(r.debit)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </figure>
  );
}
