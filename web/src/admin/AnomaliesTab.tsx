/** The admin Anomalies tab: newest first, filtered by kind, each linked to the user's ledger. */
import { type Anomaly, adminApi } from "../api/client";
import { Link, navigate } from "../router";
import { EmptyState, Field, Time } from "../ui/bits";
import { usePaged } from "../ui/usePaged";
import { ANOMALY_KINDS, anomalyFacts, anomalyLabel } from "./anomalies";
import { AdminError } from "./NotAllowed";
import { adminLedgerSearch, tabPath } from "./tabs";

export function AnomaliesTab({ search }: { search: string }) {
  const requested = new URLSearchParams(search).get("kind");
  const kind = requested && requested in ANOMALY_KINDS ? requested : undefined;
  const anomalies = usePaged(`admin-anomalies:${kind ?? ""}`, async (cursor) => {
    const page = await adminApi.anomalies(kind, cursor);
    return { items: page.anomalies as Anomaly[], nextCursor: page.nextCursor };
  });

  if (anomalies.error?.code === "permission_denied") return <AdminError error={anomalies.error} />;
  return (
    <section className="panel" aria-labelledby="admin-anomalies-heading">
      <div className="panel-header">
        <h2 id="admin-anomalies-heading">Anomalies</h2>
      </div>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Kind">
          {(id) => (
            <select
              id={id}
              value={kind ?? ""}
              onChange={(e) => navigate(tabPath("anomalies", e.target.value ? `?kind=${e.target.value}` : ""))}
            >
              <option value="">All kinds</option>
              {Object.entries(ANOMALY_KINDS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {anomalies.status === "error" && anomalies.error && <AdminError error={anomalies.error} />}
      <ul className="anomalies" aria-label="Anomalies" aria-busy={anomalies.status === "loading"}>
        {anomalies.items.map((a) => (
          <AnomalyItem key={a.id} anomaly={a} />
        ))}
      </ul>
      {anomalies.status === "loading" && <p className="muted">Loading anomalies…</p>}
      {anomalies.status === "ready" && anomalies.items.length === 0 && (
        <EmptyState title={kind ? `No ${anomalyLabel(kind).toLowerCase()} anomalies` : "No anomalies"} />
      )}
      {anomalies.hasMore && (
        <div className="load-more">
          <button type="button" className="button" onClick={anomalies.loadMore} disabled={anomalies.status !== "ready"}>
            {anomalies.status === "more" ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </section>
  );
}

function AnomalyItem({ anomaly }: { anomaly: Anomaly }) {
  const facts = anomalyFacts(anomaly);
  return (
    <li className={`anomaly anomaly-${anomaly.kind}`}>
      <div className="anomaly-head">
        <h3>{anomalyLabel(anomaly.kind)}</h3>
        {anomaly.createdAt && (
          <span className="muted">
            <Time iso={anomaly.createdAt} />
          </span>
        )}
      </div>
      <dl className="anomaly-facts">
        {anomaly.uid && (
          <div>
            <dt>User</dt>
            <dd>
              <code>{anomaly.uid}</code>
            </dd>
          </div>
        )}
        {facts.map((fact) => (
          <div key={fact.term}>
            <dt>{fact.term}</dt>
            <dd>{fact.id ? <code>{fact.value}</code> : fact.value}</dd>
          </div>
        ))}
      </dl>
      {anomaly.uid && (
        <Link href={tabPath("ledger", adminLedgerSearch({ q: anomaly.uid }))} className="row-link">
          View {anomaly.uid}&apos;s ledger
        </Link>
      )}
    </li>
  );
}
