/**
 * On a reload of Credits usage, Activity or the admin Ledger tab by a returning user, ask for
 * the page's first page of data at once, while React, Firebase Auth and (for the admin tab)
 * the admin area's code load; the page's own request then takes that answer (`prefetch` in
 * the API client). The query is the one the page builds, from the same URL parsing.
 */
import { parseActivityFilters } from "../activity/filters";
import { parseAdminLedger, tabOf } from "../admin/tabs";
import { adminApi, api, prefetch } from "../api/client";
import { ledgerQuery, parseLedgerFilters } from "../credits/filters";
import { startedAs } from "../firebase";
import { AdminPage } from "./App";

export function prefetchFirstPage(pathname: string, search: string): void {
  const session = startedAs();
  if (!session) return;
  if (pathname.startsWith("/admin")) void AdminPage.preload().catch(() => undefined);
  prefetch(() => {
    if (pathname === "/credits") void api.ledger(ledgerQuery(parseLedgerFilters(search))).catch(() => undefined);
    else if (/^\/activity(\/|$)/.test(pathname)) void api.activity(parseActivityFilters(search)).catch(() => undefined);
    else if (session.admin && tabOf(pathname) === "ledger") {
      const filters = parseAdminLedger(search);
      void adminApi.ledger({ q: filters.q, ...ledgerQuery(filters) }).catch(() => undefined);
    }
  });
}
