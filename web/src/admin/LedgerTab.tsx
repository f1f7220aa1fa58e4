/** The admin Ledger tab: search any user's entries by uid, email, job id or payment id. */
import { type FormEvent, useState } from "react";
import { type AdminQuery, type Entry, adminApi } from "../api/client";
import { ExportButton, InfiniteScroll, LedgerFilterBar } from "../credits/CreditsPage";
import { hasFilters, ledgerQuery } from "../credits/filters";
import { LedgerTable } from "../credits/LedgerTable";
import { Link, navigate } from "../router";
import { EmptyState } from "../ui/bits";
import { usePaged } from "../ui/usePaged";
import { EntryDrawer } from "./EntryDrawer";
import { AdminError } from "./NotAllowed";
import { type AdminLedgerFilters, adminLedgerSearch, parseAdminLedger, queryTakenFor, tabPath } from "./tabs";

export function LedgerTab({ search }: { search: string }) {
  const filters = parseAdminLedger(search);
  const key = adminLedgerSearch(filters);
  const [query, setQuery] = useState<{ key: string; taken: AdminQuery } | null>(null);
  const [open, setOpen] = useState<Entry | null>(null);
  const ledger = usePaged(`admin-ledger${key}`, async (cursor) => {
    const page = await adminApi.ledger({ q: filters.q, ...ledgerQuery(filters) }, cursor);
    if (!cursor) setQuery({ key, taken: page.query });
    return { items: page.entries, nextCursor: page.nextCursor };
  });

  function apply(next: AdminLedgerFilters) {
    navigate(tabPath("ledger", adminLedgerSearch(next)));
  }

  const taken = query?.key === key ? queryTakenFor(query.taken, filters.q) : "";
  if (ledger.error?.code === "permission_denied") return <AdminError error={ledger.error} />;
  return (
    <section className="panel" aria-labelledby="admin-ledger-heading">
      <div className="panel-header">
        <h2 id="admin-ledger-heading">Ledger</h2>
        <ExportButton
          filters={filters}
          createLink={() => adminApi.exportLink({ q: filters.q, ...ledgerQuery(filters) })}
        />
      </div>
      <SearchBox key={filters.q ?? ""} value={filters.q ?? ""} onSearch={(q) => apply({ ...filters, q })} />
      <p className="admin-query" role="status">
        {filters.q ? taken : "Showing every user's entries, newest first."}
      </p>
      <LedgerFilterBar filters={filters} onChange={(next) => apply({ ...next, q: filters.q })} />
      {ledger.status === "error" && ledger.error && <AdminError error={ledger.error} />}
      <div className="table-wrap">
        <LedgerTable
          label="Credits ledger"
          entries={ledger.items}
          loading={ledger.status === "loading" || ledger.status === "more"}
          skeletonRows={ledger.status === "loading" ? 8 : ledger.status === "more" ? 3 : 0}
          extraColumn={{
            header: "User",
            cell: (entry) => (
              <Link href={tabPath("ledger", adminLedgerSearch({ q: entry.uid }))} className="admin-user">
                {entry.uid}
              </Link>
            ),
          }}
          onOpen={setOpen}
        />
      </div>
      {ledger.status === "ready" && ledger.items.length === 0 && (
        <EmptyState title="No entries match these filters">
          {(hasFilters(filters) || filters.q) && (
            <button type="button" className="button" onClick={() => apply({})}>
              Clear search and filters
            </button>
          )}
        </EmptyState>
      )}
      <InfiniteScroll hasMore={ledger.hasMore} busy={ledger.status !== "ready"} onMore={ledger.loadMore} />
      {ledger.status === "ready" && !ledger.hasMore && ledger.items.length > 0 && (
        <p className="end-of-list">That is every matching entry.</p>
      )}
      {open && <EntryDrawer entry={open} onClose={() => setOpen(null)} />}
    </section>
  );
}

function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  function submit(event: FormEvent) {
    event.preventDefault();
    onSearch(text.trim());
  }
  return (
    <form role="search" className="admin-search" onSubmit={submit}>
      <label htmlFor="admin-search">Search</label>
      <div className="admin-search-row">
        <input
          id="admin-search"
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="uid, email, job id or payment id"
          maxLength={256}
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit" className="button button-primary">
          Search
        </button>
      </div>
    </form>
  );
}
