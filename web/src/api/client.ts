/**
 * The typed client of the HTTP API. Its types are generated from functions/credits/api/openapi.yaml
 * (`npm run api:types`, run before every type check and build), so a change of the
 * contract that the pages do not follow fails the type check.
 */
import { config } from "../config";
import { idToken } from "../firebase";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type JsonOf<R> = R extends { content: { "application/json": infer J } } ? J : never;
type GetResponse<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } } ? JsonOf<R> : never;
type PostResponse<P extends keyof paths> = paths[P] extends { post: { responses: infer Rs } }
  ? JsonOf<Rs[keyof Rs & (200 | 201)]>
  : never;
type PostBody<P extends keyof paths> = paths[P] extends {
  post: { requestBody: { content: { "application/json": infer B } } };
}
  ? B
  : never;
type PatchResponse<P extends keyof paths> = paths[P] extends { patch: { responses: { 200: infer R } } }
  ? JsonOf<R>
  : never;

export type Entry = Schemas["Entry"];
export type Balances = Schemas["Balances"];
export type CreditType = Schemas["CreditType"];
export type Direction = Schemas["Direction"];
export type Source = Schemas["Source"];
export type ActivityItem = Schemas["ActivityItem"];
export type Job = Schemas["Job"];
export type LedgerPage = GetResponse<"/api/credits/ledger">;
export type Quote = Schemas["Quote"];
/** A job's parameters for a quote, named as the `generation_jobs` document names them. */
export type QuoteQuery = paths["/api/credits/quote"]["get"]["parameters"]["query"];
/** Credits spent per UTC day: `GET /api/credits/usage` (docs/api.md, "Usage"). */
export type Usage = Schemas["Usage"];
export type UsageQuery = NonNullable<paths["/api/credits/usage"]["get"]["parameters"]["query"]>;
export type ActivityPage = GetResponse<"/api/activity">;
export type ActivityDetail = GetResponse<"/api/activity/{itemId}">;
export type Influencers = GetResponse<"/api/activity/influencers">;
export type Packs = GetResponse<"/api/credits/packs">;
export type Pack = Packs["packs"][number];
export type Checkout = PostResponse<"/api/credits/checkout">;
export type TestCheckout = PostResponse<"/api/credits/test-checkout">;
export type ExportLink = PostResponse<"/api/credits/export-link">;
/** The caller's settings in force, each threshold with its default, and automatic top-up (docs/alerts.md). */
export type CreditSettings = GetResponse<"/api/credits/settings">;
/** What `PATCH /api/credits/settings` changes: named types only; null puts a type back to its default. */
export type CreditSettingsPatch = Schemas["CreditSettingsPatch"];
export type UpdatedCreditSettings = PatchResponse<"/api/credits/settings">;
/**
 * Automatic top-up as the Top up page shows it: the choice, whether a card is saved, the month's
 * charges under the cap, the latest attempt, and `turnedOff` (why and when a failed payment turned
 * it off). Turning it on without a saved card answers 409 `payment_method_required`.
 */
export type AutoTopUp = Schemas["AutoTopUp"];
/** `{enabled: false}`, or the whole choice (pack, threshold, monthlyCap) to turn it on. */
export type AutoTopUpPatch = NonNullable<CreditSettingsPatch["autoTopUp"]>;
/** Why an automatic top-up failed: `card_declined`, `authentication_required`… */
export type AutoTopUpFailure = Schemas["AutoTopUpFailure"];
/** Emulators only: how automatic top-ups charged to the card a test checkout saves will go. */
export type TestCard = Schemas["TestCard"];
/** The alerts whose cause lasts now: what the low-balance and expiring-soon banners show. */
export type ActiveAlerts = GetResponse<"/api/credits/alerts">;
export type CreditAlert = Schemas["CreditAlert"];
export type AdminLedgerPage = GetResponse<"/api/admin/credits/ledger">;
export type AdminQuery = AdminLedgerPage["query"];
export type LowBalanceUsers = GetResponse<"/api/admin/credits/users">;
export type LowBalanceUser = LowBalanceUsers["users"][number];
export type Summaries = GetResponse<"/api/admin/credits/summaries">;
export type DailySummary = Schemas["DailySummary"];
export type Anomalies = GetResponse<"/api/admin/credits/anomalies">;
/** An anomaly: its common fields, and the case's own (amounts, ids) as the API sends them. */
export type Anomaly = Anomalies["anomalies"][number] & Record<string, unknown>;
export type AdjustBody = PostBody<"/api/admin/credits/adjust">;
export type Adjusted = PostResponse<"/api/admin/credits/adjust">;

/** The error body every route answers with: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Query = Record<string, string | number | null | undefined>;

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

const early = new Map<string, Promise<unknown>>();
let prefetching = false;

/**
 * Start the GET requests that `calls` makes now; the next identical GET takes the answer
 * instead of asking again. Used for the first page's data while the app starts up.
 */
export function prefetch(calls: () => void): void {
  prefetching = true;
  try {
    calls();
  } finally {
    prefetching = false;
  }
}

type Method = "GET" | "POST" | "PATCH";

function request<T>(method: Method, path: string, query?: Query, body?: unknown): Promise<T> {
  const url = `${config.apiBase}${path}${queryString(query)}`;
  if (method !== "GET") return send<T>(method, url, body);
  const waiting = early.get(url);
  if (waiting) {
    early.delete(url);
    return waiting as Promise<T>;
  }
  const answer = send<T>(method, url, body);
  if (prefetching)
    early.set(
      url,
      answer.catch(() => send<T>(method, url, body)),
    );
  return answer;
}

async function send<T>(method: Method, url: string, body?: unknown): Promise<T> {
  const token = await idToken();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)
      ?.error;
    throw new ApiError(
      response.status,
      error?.code ?? "internal",
      error?.message ?? `request failed (${response.status})`,
      error?.details,
    );
  }
  return data as T;
}

export interface LedgerQuery {
  type?: CreditType;
  direction?: Direction;
  source?: Source;
  /** Inclusive start, an ISO date-time. */
  from?: string;
  /** Exclusive end, an ISO date-time. */
  to?: string;
}

export const api = {
  ledger: (filters: LedgerQuery, cursor?: string | null, limit = 50) =>
    request<LedgerPage>("GET", "/credits/ledger", { ...filters, cursor, limit }),
  /** What a job would cost the caller now, and which credits would pay it (a read: nothing is reserved). */
  quote: (params: QuoteQuery) => request<Quote>("GET", "/credits/quote", { ...params }),
  /** Credits spent per UTC day from `from` to `to` (both included, at most 90 days), by type or also by source. */
  usage: (query: Required<UsageQuery>) =>
    request<Usage>("GET", "/credits/usage", { from: query.from, to: query.to, by: query.by }),
  exportLink: (filters: LedgerQuery) => request<ExportLink>("POST", "/credits/export-link", undefined, filters),
  activity: (query: { range: string; type: string; influencerId?: string }, cursor?: string | null) =>
    request<ActivityPage>("GET", "/activity", { ...query, cursor }),
  activityItem: (itemId: string) => request<ActivityDetail>("GET", `/activity/${encodeURIComponent(itemId)}`),
  influencers: () => request<Influencers>("GET", "/activity/influencers"),
  /** The caller's credit settings in force (low-balance thresholds, with their defaults). */
  settings: () => request<CreditSettings>("GET", "/credits/settings"),
  /** Change only what `patch` names; answers the settings in force after it. */
  updateSettings: (patch: CreditSettingsPatch) =>
    request<UpdatedCreditSettings>("PATCH", "/credits/settings", undefined, patch),
  /** The caller's low-balance and expiring-soon alerts that hold now (empty when none). */
  alerts: () => request<ActiveAlerts>("GET", "/credits/alerts"),
  packs: () => request<Packs>("GET", "/credits/packs"),
  checkout: (pack: string) => request<Checkout>("POST", "/credits/checkout", undefined, { pack }),
  /** Emulators: pay a test session; `testCard` sets how later automatic top-ups of the saved card go. */
  testCheckout: (session: string, pack: string, testCard?: TestCard) =>
    request<TestCheckout>("POST", "/credits/test-checkout", undefined, { session, pack, testCard }),
};

/** The admin routes (the token needs the `admin` claim; otherwise each answers 403). */
export const adminApi = {
  ledger: (filters: LedgerQuery & { q?: string }, cursor?: string | null, limit = 50) =>
    request<AdminLedgerPage>("GET", "/admin/credits/ledger", { ...filters, cursor, limit }),
  exportLink: (filters: LedgerQuery & { q?: string }) =>
    request<ExportLink>("POST", "/admin/credits/export-link", undefined, filters),
  users: (query: { type: CreditType; below: number }, cursor?: string | null, limit = 50) =>
    request<LowBalanceUsers>("GET", "/admin/credits/users", { ...query, cursor, limit }),
  summaries: (from: string, to: string) => request<Summaries>("GET", "/admin/credits/summaries", { from, to }),
  anomalies: (kind: string | undefined, cursor?: string | null, limit = 50) =>
    request<Anomalies>("GET", "/admin/credits/anomalies", { kind, cursor, limit }),
  adjust: (body: AdjustBody) => request<Adjusted>("POST", "/admin/credits/adjust", undefined, body),
};
