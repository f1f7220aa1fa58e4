/**
 * The admin Daily summaries tab: a date range, charts of credits vs debits per day and by
 * source for each credit type, each with its numbers in a table under a disclosure (a canvas
 * says nothing to assistive technology), and the range's totals. Loaded lazily with chart.js.
 */
import { useEffect, useState } from "react";
import { ApiError, type CreditType, type Summaries, adminApi } from "../api/client";
import { count, creditTypeLabel, sourceLabel } from "../format";
import { navigate } from "../router";
import { Field, Spinner } from "../ui/bits";
import { BarChart } from "./BarChart";
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
        <Field label="From">
          {(id) => (
            <input
              id={id}
              type="date"
              value={range.from}
              max={range.to}
              onChange={(e) => e.target.value && setRange({ ...range, from: e.target.value })}
            />
          )}
        </Field>
        <Field label="To">
          {(id) => (
            <input
              id={id}
              type="date"
              value={range.to}
              min={range.from}
              onChange={(e) => e.target.value && setRange({ ...range, to: e.target.value })}
            />
          )}
        </Field>
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
  const dailyTitle = `${label} credits vs debits per day`;
  const sourceTitle = `${label} credits by source`;
  return (
    <div className="chart-pair">
      <figure className="chart">
        <figcaption>{dailyTitle}</figcaption>
        <BarChart
          label={`${dailyTitle}, chart; the numbers are in the table below`}
          labels={daily.days}
          series={[
            { name: "Credits", values: daily.credit, color: "#0f7b45" },
            { name: "Debits", values: daily.debit, color: "#b42318" },
          ]}
        />
        <details>
          <summary>Show the numbers: {dailyTitle.toLowerCase()}</summary>
          <div className="table-wrap">
            <table className="summary-table" aria-label={dailyTitle}>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col" className="num">
                    Credits
                  </th>
                  <th scope="col" className="num">
                    Debits
                  </th>
                </tr>
              </thead>
              <tbody>
                {daily.days.map((day, i) => (
                  <tr key={day}>
                    <th scope="row">{day}</th>
                    <td className="num">{count(daily.credit[i] ?? 0)}</td>
                    <td className="num">{count(daily.debit[i] ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figure>
      <figure className="chart">
        <figcaption>{sourceTitle}</figcaption>
        {sources.length === 0 ? (
          <p className="muted">No {type} credits moved in this range.</p>
        ) : (
          <>
            <BarChart
              label={`${sourceTitle}, chart; the numbers are in the table below`}
              labels={sources.map((s) => sourceLabel(s.source))}
              series={[
                { name: "Credits", values: sources.map((s) => s.credit), color: "#0f7b45" },
                { name: "Debits", values: sources.map((s) => s.debit), color: "#b42318" },
              ]}
              horizontal
            />
            <details>
              <summary>Show the numbers: {sourceTitle.toLowerCase()}</summary>
              <div className="table-wrap">
                <table className="summary-table" aria-label={sourceTitle}>
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col" className="num">
                        Credits
                      </th>
                      <th scope="col" className="num">
                        Debits
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {sources.map((s) => (
                      <tr key={s.source}>
                        <th scope="row">{sourceLabel(s.source)}</th>
                        <td className="num">{count(s.credit)}</td>
                        <td className="num">{count(s.debit)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </>
        )}
      </figure>
    </div>
  );
}
