/**
 * On a reload of Credits usage or Activity by a returning user, ask for the page's first
 * page of data at once, while React and Firebase Auth start up; the page's own request
 * then takes that answer (`prefetch` in the API client). The query is the one the page
 * builds, from the same URL parsing. An admin URL starts loading the admin area's code.
 */
import { parseActivityFilters } from "../activity/filters";
import { api, prefetch } from "../api/client";
import { ledgerQuery, parseLedgerFilters } from "../credits/filters";
import { startedSignedIn } from "../firebase";
import { AdminPage } from "./App";

export function prefetchFirstPage(pathname: string, search: string): void {
  if (!startedSignedIn()) return;
  if (pathname.startsWith("/admin")) void AdminPage.preload().catch(() => undefined);
  prefetch(() => {
    if (pathname === "/credits") void api.ledger(ledgerQuery(parseLedgerFilters(search))).catch(() => undefined);
    else if (/^\/activity(\/|$)/.test(pathname)) void api.activity(parseActivityFilters(search)).catch(() => undefined);
  });
}
