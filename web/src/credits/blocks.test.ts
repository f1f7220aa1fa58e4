import { describe, expect, it } from "vitest";
import type { Entry } from "../api/client";
import { blockFacts, blockSummary, expiringNext, expiringText, nextChange } from "./blocks";

const NOW = new Date("2026-11-22T12:00:00Z");

function entry(fields: Partial<Entry>): Entry {
  return {
    id: "e1",
    uid: "u",
    type: "image",
    direction: "debit",
    amount: 40,
    delta: -40,
    balance_after: 60,
    seq: 3,
    source: "text2image",
    reason: "",
    jobId: "j1",
    paymentId: null,
    invoiceId: null,
    meta: {},
    createdAt: "2026-11-20T10:00:00Z",
    createdBy: "system",
    idempotencyKey: "debit:text2image:j1",
    expiresAt: null,
    paidBy: [],
    returnedTo: [],
    ...fields,
  };
}

describe("credit blocks", () => {
  it("finds the credits that expire next per type, adding blocks that expire together", () => {
    const data = {
      blocks: JSON.stringify({
        gone: { type: "image", remaining: 7, expiresAt: "2026-11-21T00:00:00+00:00" },
        plan: { type: "image", remaining: 100, expiresAt: "2026-12-01T00:00:00+00:00" },
        grant: { type: "image", remaining: 20, expiresAt: "2026-12-01T00:00:00+00:00" },
        later: { type: "image", remaining: 9, expiresAt: "2027-01-01T00:00:00+00:00" },
        pack: { type: "image", remaining: 500, expiresAt: null },
        video: { type: "video", remaining: 60, expiresAt: "2026-12-24T00:00:00+00:00" },
      }),
    };
    const next = expiringNext(data, NOW);
    expect(next).toEqual({
      image: { amount: 120, expiresAt: "2026-12-01T00:00:00+00:00" },
      video: { amount: 60, expiresAt: "2026-12-24T00:00:00+00:00" },
    });
    const image = next.image;
    if (!image) throw new Error("no image credits expiring");
    expect(expiringText(image, "UTC")).toBe("120 expire on Dec 1, 2026");
    expect(expiringNext({ image: 3 }, NOW)).toEqual({});
    expect(expiringNext({ blocks: "not json" }, NOW)).toEqual({});
    // The card is redrawn a second after the soonest expiry; a far one waits as long as a timer can.
    expect(nextChange(next, NOW)).toBe(Date.parse("2026-12-01T00:00:00Z") - NOW.getTime() + 1000);
    expect(nextChange({}, NOW)).toBeNull();
    expect(nextChange({ video: { amount: 1, expiresAt: "2030-01-01T00:00:00Z" } }, NOW)).toBe(2 ** 31 - 1);
  });

  it("says which grants paid a debit, what an expiration took and where a refund went", () => {
    const plan = { block: "p1", amount: 30, expiresAt: "2026-12-01T00:00:00Z", grantedAt: "2026-11-01T09:00:00Z" };
    const pack = { block: "k1", amount: 10, expiresAt: null, grantedAt: "2026-11-05T09:00:00Z" };
    const debit = entry({ paidBy: [plan, pack] });
    expect(blockFacts(debit, "UTC")).toEqual([
      {
        term: "Paid by",
        lines: ["30 from credits of Nov 1, 2026, expiring Dec 1, 2026", "10 from credits of Nov 5, 2026, no expiry"],
      },
    ]);
    expect(blockSummary(debit, "UTC")).toBe("Paid from Nov 1 credits (30, expire Dec 1), Nov 5 credits (10)");
    const expired = entry({ source: "expiration", jobId: null, paidBy: [{ ...plan, amount: 12 }] });
    expect(blockSummary(expired, "UTC")).toBe("Expired: Nov 1 credits (expired Dec 1)");
    expect(blockFacts(expired, "UTC")).toEqual([
      { term: "Expired", lines: ["12 of credits of Nov 1, 2026, expired Dec 1, 2026"] },
    ]);
    const refund = entry({ direction: "credit", source: "refund", returnedTo: [pack] });
    expect(blockSummary(refund, "UTC")).toBe("Returned to Nov 5 credits (10)");
    const grant = entry({ direction: "credit", source: "subscription_grant", expiresAt: "2026-12-01T00:00:00Z" });
    expect(blockSummary(grant, "UTC")).toBe("Expires Dec 1, 2026");
    expect(blockSummary(entry({ direction: "credit", source: "purchase" }), "UTC")).toBeNull();
    expect(blockFacts(entry({ direction: "credit", source: "purchase" }))).toEqual([
      { term: "Expires", lines: ["Never"] },
    ]);
  });
});
