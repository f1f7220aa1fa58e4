/**
 * The admin area's tabs and their URLs: each tab has its own path under /admin/credits,
 * and its filters live in the query string, so a reload or a shared link shows the same view.
 */
import type { CreditType } from "../api/client";
import { type LedgerFilters, ledgerSearch, parseLedgerFilters } from "../credits/filters";

export const TABS = [
  { id: "ledger", label: "Ledger" },
  { id: "users", label: "Users" },
  { id: "summaries", label: "Daily summaries" },
  { id: "anomalies", label: "Anomalies" },
] as const;

export type TabId = (typeof TABS)[number]["id"];

/** The tab a path names; /admin/credits alone is the Ledger; anything else is null (not found). */
export function tabOf(pathname: string): TabId | null {
  const match = /^\/admin\/credits(?:\/([a-z]+))?\/?$/.exec(pathname);
  if (!match) return null;
  const id = match[1] ?? "ledger";
  return TABS.some((tab) => tab.id === id) ? (id as TabId) : null;
}

export function tabPath(id: TabId, search = ""): string {
  return `/admin/credits/${id}${search}`;
}

/** The admin ledger's filters: the user-side ones plus the search `q`. */
export interface AdminLedgerFilters extends LedgerFilters {
  q?: string;
}

export function parseAdminLedger(search: string): AdminLedgerFilters {
  const q = new URLSearchParams(search).get("q")?.trim();
  return { ...(q ? { q: q.slice(0, 256) } : {}), ...parseLedgerFilters(search) };
}

export function adminLedgerSearch(filters: AdminLedgerFilters): string {
  const rest = ledgerSearch(filters);
  if (!filters.q) return rest;
  const q = new URLSearchParams({ q: filters.q }).toString();
  return rest ? `?${q}&${rest.slice(1)}` : `?${q}`;
}

/** What the API took `q` for, in words ("" without a search). */
export function queryTakenFor(query: { field: string | null; value: string | null } | undefined, q?: string): string {
  if (!q || !query?.field) return "";
  const value = query.value ?? "";
  if (query.field === "uid" && /\s/.test(value)) return `No user has the email ${q}.`;
  const names: Record<string, string> = { uid: "user", jobId: "generation job", paymentId: "payment" };
  const what = names[query.field] ?? query.field;
  return query.field === "uid" && q.includes("@") && !q.startsWith("uid:")
    ? `Showing the entries of user ${value} (email ${q.replace(/^email:/, "")}).`
    : `Showing the entries of ${what} ${value}.`;
}

export interface UsersFilters {
  type: CreditType;
  below: number;
}

export const DEFAULT_BELOW = 20;

export function parseUsers(search: string): UsersFilters {
  const params = new URLSearchParams(search);
  const below = Number(params.get("below"));
  return {
    type: params.get("type") === "video" ? "video" : "image",
    below: Number.isInteger(below) && below >= 1 && below <= 10_000_000 ? below : DEFAULT_BELOW,
  };
}

export function usersSearch(filters: UsersFilters): string {
  const params = new URLSearchParams();
  if (filters.type !== "image") params.set("type", filters.type);
  if (filters.below !== DEFAULT_BELOW) params.set("below", String(filters.below));
  const text = params.toString();
  return text ? `?${text}` : "";
}
