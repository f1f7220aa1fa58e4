/**
 * The admin area: WAI-ARIA tabs (arrow keys, Home and End move between them and open the
 * tab), each tab at its own URL under /admin/credits. This module and everything below it
 * is loaded lazily; the Daily summaries tab (and chart.js) only when it is opened.
 */
import { type KeyboardEvent, useRef } from "react";
import { navigate } from "../router";
import { Spinner } from "../ui/bits";
import { loadable } from "../ui/loadable";
import { AnomaliesTab } from "./AnomaliesTab";
import { LedgerTab } from "./LedgerTab";
import { TABS, type TabId, tabOf, tabPath } from "./tabs";
import { UsersTab } from "./UsersTab";

const SummariesTab = loadable(() => import("./SummariesTab"), <Spinner label="Loading the charts" />);

export default function AdminPage({ pathname, search }: { pathname: string; search: string }) {
  const active = tabOf(pathname);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  if (!active) {
    return (
      <div className="panel not-found">
        <h1>Page not found</h1>
        <p>There is no such admin page.</p>
      </div>
    );
  }

  function open(id: TabId, focus = false) {
    if (id !== active) navigate(tabPath(id));
    if (focus) tabs.current[TABS.findIndex((t) => t.id === id)]?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = TABS.findIndex((t) => t.id === active);
    const last = TABS.length - 1;
    const next =
      event.key === "ArrowRight"
        ? (index + 1) % TABS.length
        : event.key === "ArrowLeft"
          ? (index + last) % TABS.length
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? last
              : null;
    if (next === null) return;
    event.preventDefault();
    const tab = TABS[next];
    if (tab) open(tab.id, true);
  }

  return (
    <>
      <div className="page-heading">
        <h1>Credits administration</h1>
        <p className="lede">Every user&apos;s ledger, low balances, daily summaries and anomalies.</p>
      </div>
      <div className="admin-tabs" role="tablist" aria-label="Credits administration" onKeyDown={onKeyDown}>
        {TABS.map((tab, i) => (
          <button
            key={tab.id}
            ref={(node) => {
              tabs.current[i] = node;
            }}
            type="button"
            role="tab"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === active}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === active ? 0 : -1}
            className="admin-tab"
            onClick={() => open(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${active}`} aria-labelledby={`tab-${active}`} className="admin-panel">
        {active === "ledger" && <LedgerTab search={search} />}
        {active === "users" && <UsersTab search={search} />}
        {active === "summaries" && <SummariesTab search={search} />}
        {active === "anomalies" && <AnomaliesTab search={search} />}
      </div>
    </>
  );
}
