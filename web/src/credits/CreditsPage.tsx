/** Credits usage: live balances, the filtered ledger with infinite scroll, and CSV export. */
import { useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import type { Session } from "../firebase";
import { SOURCE_LABELS } from "../format";
import { navigate, useLocation } from "../router";
import { DateRangeFields, EmptyState, Field, Notice } from "../ui/bits";
import { usePaged } from "../ui/usePaged";
import { BalanceCards } from "./BalanceCards";
import { CreditAlertsBanner } from "./CreditAlertsBanner";
import { type LedgerFilters, hasFilters, ledgerQuery, ledgerSearch, parseLedgerFilters } from "./filters";
import { LedgerTable } from "./LedgerTable";
import { UsagePanel } from "./UsagePanel";

type SignedIn = Extract<Session, { status: "signedIn" }>;

export function CreditsPage({ session }: { session: SignedIn }) {
  const location = useLocation();
  const filters = parseLedgerFilters(location.search);
  const search = ledgerSearch(filters);
  const checkout = new URLSearchParams(location.search).get("checkout");
  const ledger = usePaged(`${session.uid}${search}`, async (cursor) => {
    const page = await api.ledger(ledgerQuery(filters), cursor);
    return { items: page.entries, nextCursor: page.nextCursor };
  });

  function apply(next: LedgerFilters) {
    navigate(`/credits${ledgerSearch(next)}`);
  }

  return (
    <>
      <div className="page-heading page-heading-alerts">
        <div>
          <h1>Credits usage</h1>
          <p className="lede">Every change to your credits, newest first. Times are in your time zone.</p>
        </div>
        <CreditAlertsBanner uid={session.uid} start={ledger.status !== "loading"} />
      </div>
      {checkout === "success" && (
        <Notice tone="success">Payment received. Your credits are added as soon as the payment is confirmed.</Notice>
      )}
      <BalanceCards uid={session.uid} />
      <UsagePanel filters={filters} start={ledger.status !== "loading"} />
      <section className="panel" aria-labelledby="ledger-heading">
        <div className="panel-header">
          <h2 id="ledger-heading">Ledger</h2>
          <ExportButton filters={filters} />
        </div>
        <LedgerFilterBar filters={filters} onChange={apply} />
        {ledger.status === "error" && ledger.error && <Notice tone="error">{ledger.error.message}</Notice>}
        <div className="table-wrap">
          <LedgerTable
            label="Credits ledger"
            entries={ledger.items}
            loading={ledger.status === "loading" || ledger.status === "more"}
            skeletonRows={ledger.status === "loading" ? 8 : ledger.status === "more" ? 3 : 0}
          />
        </div>
        {ledger.status === "ready" && ledger.items.length === 0 && (
          <EmptyState title="No entries match these filters">
            {hasFilters(filters) ? (
              <button type="button" className="button" onClick={() => apply({})}>
                Clear filters
              </button>
            ) : (
              <p>When you generate, buy or receive credits, each change appears here.</p>
            )}
          </EmptyState>
        )}
        <InfiniteScroll hasMore={ledger.hasMore} busy={ledger.status !== "ready"} onMore={ledger.loadMore} />
        {ledger.status === "ready" && !ledger.hasMore && ledger.items.length > 0 && (
          <p className="end-of-list">That is every entry{hasFilters(filters) ? " matching these filters" : ""}.</p>
        )}
      </section>
    </>
  );
}

export function LedgerFilterBar({
  filters,
  onChange,
}: {
  filters: LedgerFilters;
  onChange: (next: LedgerFilters) => void;
}) {
  function set<K extends keyof LedgerFilters>(name: K, value: string) {
    onChange({ ...filters, [name]: value || undefined });
  }
  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
      <Field label="Direction">
        {(id) => (
          <select id={id} value={filters.direction ?? ""} onChange={(e) => set("direction", e.target.value)}>
            <option value="">All</option>
            <option value="credit">Credit</option>
            <option value="debit">Debit</option>
          </select>
        )}
      </Field>
      <Field label="Type">
        {(id) => (
          <select id={id} value={filters.type ?? ""} onChange={(e) => set("type", e.target.value)}>
            <option value="">All</option>
            <option value="image">Image</option>
            <option value="video">Video</option>
          </select>
        )}
      </Field>
      <Field label="Source">
        {(id) => (
          <select id={id} value={filters.source ?? ""} onChange={(e) => set("source", e.target.value)}>
            <option value="">All</option>
            {Object.entries(SOURCE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <DateRangeFields from={filters.from} to={filters.to} onChange={set} />
      {hasFilters(filters) && (
        <button type="button" className="link-button clear-filters" onClick={() => onChange({})}>
          Clear filters
        </button>
      )}
    </form>
  );
}

/** Asks for a short-lived signed link and lets the browser download the CSV stream to disk. */
export function ExportButton({
  filters,
  createLink = (f) => api.exportLink(ledgerQuery(f)),
}: {
  filters: LedgerFilters;
  createLink?: (filters: LedgerFilters) => Promise<{ url: string }>;
}) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  async function exportCsv() {
    setState({ busy: true, error: null });
    try {
      const { url } = await createLink(filters);
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = "";
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error: error instanceof ApiError ? error.message : "The export could not be started." });
    }
  }
  return (
    <div className="export">
      <button type="button" className="button" onClick={exportCsv} disabled={state.busy}>
        Export CSV
      </button>
      <span className="export-status" role="status">
        {state.busy ? "Preparing your download…" : state.error}
      </span>
    </div>
  );
}

/** Loads the next page when the end of the list scrolls into view; a button does the same. */
export function InfiniteScroll({ hasMore, busy, onMore }: { hasMore: boolean; busy: boolean; onMore: () => void }) {
  const sentinel = useRef<HTMLDivElement>(null);
  const more = useRef(onMore);
  useEffect(() => {
    more.current = onMore;
  });
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasMore) return;
    const observer = new IntersectionObserver((seen) => seen.some((s) => s.isIntersecting) && more.current(), {
      rootMargin: "600px 0px",
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasMore, busy]);
  if (!hasMore) return null;
  return (
    <div ref={sentinel} className="load-more">
      <button type="button" className="button" onClick={onMore} disabled={busy}>
        {busy ? "Loading…" : "Load more entries"}
      </button>
    </div>
  );
}
