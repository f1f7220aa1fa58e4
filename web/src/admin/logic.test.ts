import { describe, expect, it } from "vitest";
import { ApiError, type Anomaly, type DailySummary } from "../api/client";
import { anomalyFacts, anomalyLabel } from "./anomalies";
import { expiresAtOf, grantError, grantOutcome, validateGrant } from "./grant";
import { dailySeries, defaultRange, rangeTotals, sourceRows } from "./summaries";
import { adminLedgerSearch, parseAdminLedger, parseUsers, queryTakenFor, tabOf, usersSearch } from "./tabs";

const day = (d: string, image: [number, number], purchase: number, t2i: number) =>
  ({
    day: d,
    byType: {
      image: { credit: { amount: image[0], count: 1 }, debit: { amount: image[1], count: 2 }, net: 0, entries: 3 },
      video: { credit: { amount: 0, count: 0 }, debit: { amount: 0, count: 0 }, net: 0, entries: 0 },
    },
    bySource: {
      purchase: { credit: { image: { amount: purchase, count: 1 } } },
      text2image: { debit: { image: { amount: t2i, count: 2 } } },
      refund: { credit: { image: { amount: 0, count: 0 } } },
    },
  }) as DailySummary;

describe("summaries", () => {
  const days = [day("2026-11-01", [100, 30], 100, 30), day("2026-11-02", [0, 8], 0, 8)];
  it("builds per-day series", () => {
    expect(dailySeries(days, "image")).toEqual({
      days: ["2026-11-01", "2026-11-02"],
      credit: [100, 0],
      debit: [30, 8],
    });
    expect(dailySeries(days, "video").credit).toEqual([0, 0]);
  });
  it("sums by source, leaving out empty sources", () => {
    expect(sourceRows(days, "image")).toEqual([
      { source: "purchase", credit: 100, debit: 0 },
      { source: "text2image", credit: 0, debit: 38 },
    ]);
  });
  it("totals the range", () => {
    expect(rangeTotals(days, "image")).toEqual({ credit: 100, debit: 38, net: 62, entries: 6 });
  });
  it("defaults to the 30 days up to yesterday", () => {
    expect(defaultRange(new Date("2026-11-21T10:00:00Z"))).toEqual({ from: "2026-10-22", to: "2026-11-20" });
  });
});

describe("anomalies", () => {
  it("labels kinds and lists their facts", () => {
    expect(anomalyLabel("insufficient_credits")).toBe("Blocked debit");
    expect(anomalyLabel("something_new")).toBe("something new");
    const a = {
      id: "x",
      kind: "insufficient_credits",
      uid: "u",
      createdAt: null,
      type: "image",
      amount: 10,
      balance: 3,
      jobId: "j1",
    } as Anomaly;
    expect(anomalyFacts(a)).toEqual([
      { term: "Attempted", value: "10 image credits" },
      { term: "Balance", value: "3 image credits" },
      { term: "Job", value: "j1", id: true },
    ]);
    const p = {
      id: "p",
      kind: "partial_reversal",
      uid: "u",
      createdAt: null,
      amount: 100,
      taken: 40,
      shortfall: 60,
    } as Anomaly;
    expect(anomalyFacts(p).map((f) => f.term)).toEqual(["To take back", "Taken", "Shortfall"]);
    const u = {
      id: "u",
      kind: "unattributable_webhook",
      uid: "ghost",
      createdAt: null,
      why: "ghost is no user of this project",
      eventId: "evt_1",
      eventType: "checkout.session.completed",
    } as Anomaly;
    expect(anomalyFacts(u).slice(0, 2)).toEqual([
      { term: "Why", value: "Ghost is no user of this project" },
      { term: "Event", value: "evt_1", id: true },
    ]);
    const r = {
      id: "r",
      kind: "job_billing_repaired",
      uid: "u",
      createdAt: null,
      jobId: "j2",
      status: "completed",
      missing: "debit",
      action: "charged",
      entryId: "e9",
      amount: 8,
      type: "image",
    } as Anomaly;
    expect(anomalyLabel(r.kind)).toBe("Job billing repaired");
    expect(anomalyFacts(r)).toEqual([
      { term: "Job", value: "j2", id: true },
      { term: "Status", value: "completed" },
      { term: "Repair", value: "Charged the missing debit" },
      { term: "Amount", value: "8 image credits" },
      { term: "Entry", value: "e9", id: true },
    ]);
    const v = {
      id: "v",
      kind: "invalid_job",
      uid: "u",
      createdAt: null,
      jobId: "j3",
      field: "numImages",
      message: "must be an integer from 1 to 16",
      status: "queued",
    } as Anomaly;
    expect(anomalyLabel(v.kind)).toBe("Job breaks the contract");
    expect(anomalyFacts(v)).toEqual([
      { term: "Job", value: "j3", id: true },
      { term: "Field", value: "numImages" },
      { term: "Problem", value: "must be an integer from 1 to 16" },
      { term: "Status", value: "queued" },
    ]);
  });
});

describe("tabs and URLs", () => {
  it("maps paths to tabs", () => {
    expect(tabOf("/admin/credits")).toBe("ledger");
    expect(tabOf("/admin/credits/summaries")).toBe("summaries");
    expect(tabOf("/admin/credits/nope")).toBeNull();
  });
  it("keeps q and the filters in the query string", () => {
    const f = parseAdminLedger("?q=alice%40demo.test&direction=debit&bogus=1");
    expect(f).toEqual({ q: "alice@demo.test", direction: "debit" });
    expect(adminLedgerSearch(f)).toBe("?q=alice%40demo.test&direction=debit");
    expect(adminLedgerSearch({})).toBe("");
  });
  it("says what q was taken for", () => {
    expect(queryTakenFor({ field: "jobId", value: "j1" }, "j1")).toBe("Showing the entries of generation job j1.");
    expect(queryTakenFor({ field: "uid", value: "demo-alice" }, "alice@demo.test")).toContain("demo-alice");
    expect(queryTakenFor({ field: "uid", value: "no user with email x@y" }, "x@y")).toBe("No user has the email x@y.");
    expect(queryTakenFor({ field: null, value: null }, undefined)).toBe("");
  });
  it("parses the users filters", () => {
    expect(parseUsers("?type=video&below=5")).toEqual({ type: "video", below: 5 });
    expect(parseUsers("?below=-1")).toEqual({ type: "image", below: 20 });
    expect(usersSearch({ type: "image", below: 20 })).toBe("");
  });
});

describe("grant", () => {
  const form = {
    user: "u1",
    type: "image" as const,
    direction: "credit" as const,
    amount: "5",
    reason: "goodwill",
    expires: "",
  };
  it("turns the last day of a grant into the instant it expires, and refuses a past day or a debit", () => {
    const today = new Date("2026-11-22T15:00:00Z");
    expect(expiresAtOf({ ...form, expires: "2026-11-30" })).toBe("2026-12-01T00:00:00.000Z");
    expect(expiresAtOf(form)).toBeNull();
    expect(validateGrant({ ...form, expires: "2026-11-22" }, today)).toEqual({});
    expect(validateGrant({ ...form, expires: "2026-11-21" }, today)).toEqual({
      expires: "Choose today or a later day.",
    });
    expect(validateGrant({ ...form, direction: "debit", expires: "2026-12-01" }, today)).toEqual({
      expires: "Only granted credits can expire.",
    });
  });
  it("validates the form", () => {
    expect(validateGrant(form)).toEqual({});
    expect(Object.keys(validateGrant({ ...form, amount: "0", reason: " ", user: "" })).sort()).toEqual([
      "amount",
      "reason",
      "user",
    ]);
  });
  it("says what happened", () => {
    const entry = { uid: "u1", type: "image", direction: "credit", amount: 5, balance_after: 12 } as never;
    expect(grantOutcome({ entry, replayed: false })).toBe("Granted: +5 image credits for u1. Balance after: 12.");
    expect(grantOutcome({ entry, replayed: true })).toMatch(/^Already granted/);
    const refused = grantError(
      new ApiError(409, "insufficient_credits", "x", { attempted: 900, balance: 12, type: "image" }),
    );
    expect(refused.message).toContain("900");
    expect(refused.message).toContain("12");
    const invalid = grantError(
      new ApiError(400, "invalid_argument", "invalid request body", {
        errors: [{ field: "reason", message: "too long" }],
      }),
    );
    expect(invalid.fields).toEqual({ reason: "too long" });
  });
});
