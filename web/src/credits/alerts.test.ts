import { describe, expect, it } from "vitest";
import type { ActiveAlerts, CreditAlert } from "../api/client";
import {
  type BannerLine,
  bannerLines,
  expiringLines,
  isDismissed,
  lineText,
  lowBalanceText,
  nextRefresh,
  offersTopUp,
  shownIds,
  whenText,
} from "./alerts";
import { expiryTimes } from "./blocks";

const NOW = new Date("2026-12-05T12:00:00Z");
const UTC = "UTC";

/** An alert record as far as the banner reads it (its id); the rest of the record is the API's. */
function alert(id = "low_balance:e1"): CreditAlert {
  return { id, kind: "low_balance", type: "image" } as CreditAlert;
}

function expiring(blockId: string, type: "image" | "video", credits: number, expiresAt: string) {
  return { type, blockId, credits, expiresAt, alert: null };
}

function alerts(fields: Partial<ActiveAlerts>): ActiveAlerts {
  return { lowBalance: [], expiringSoon: [], expiringSoonDays: 3, ...fields };
}

const texts = (a: ActiveAlerts) => bannerLines(a, NOW, UTC).map(lineText);

describe("the low-balance line", () => {
  it("says the type, what is left and the alert it is below", () => {
    expect(lowBalanceText({ type: "image", balance: 12, threshold: 20 })).toBe(
      "Your image credits are low: 12 left, below your alert at 20.",
    );
    expect(lowBalanceText({ type: "video", balance: 1, threshold: 1500 })).toBe(
      "Your video credits are low: 1 left, below your alert at 1,500.",
    );
  });

  it("says out of credits at zero", () => {
    expect(lowBalanceText({ type: "image", balance: 0, threshold: 20 })).toBe(
      "You are out of image credits (your alert is at 20).",
    );
  });
});

describe("the expiring-soon line", () => {
  it("says today, tomorrow or the date, with the time, in the user's time zone", () => {
    expect(whenText("2026-12-05T18:30:00Z", NOW, UTC)).toBe("today at 18:30");
    expect(whenText("2026-12-06T09:05:00Z", NOW, UTC)).toBe("tomorrow at 09:05");
    expect(whenText("2026-12-08T00:00:00Z", NOW, UTC)).toBe("on Dec 8 at 00:00");
    // Midnight UTC is still Dec 7 in New York.
    expect(whenText("2026-12-08T00:00:00Z", NOW, "America/New_York")).toBe("on Dec 7 at 19:00");
  });

  it("adds the blocks that expire first together and counts the type's later ones", () => {
    const lines = expiringLines(
      [
        expiring("b2", "image", 25, "2026-12-08T14:00:00Z"),
        expiring("b1", "image", 30, "2026-12-07T14:00:00Z"),
        expiring("b0", "image", 10, "2026-12-07T14:00:00Z"),
        expiring("b3", "image", 5, "2026-12-08T16:00:00Z"),
      ],
      NOW,
      UTC,
    );
    expect(lines.map(lineText)).toEqual(["40 image credits expire on Dec 7 at 14:00, and 30 more by Dec 8."]);
    expect(lines[0]?.ids).toEqual(["block:b1", "block:b0", "block:b2", "block:b3"]);
    expect(lines[0]?.parts).toContainEqual({ iso: "2026-12-07T14:00:00Z", text: "on Dec 7 at 14:00" });
  });

  it("has one line per type, soonest first, singular for one credit, and leaves out what has expired", () => {
    const lines = expiringLines(
      [
        expiring("v", "video", 1, "2026-12-06T10:00:00Z"),
        expiring("i", "image", 40, "2026-12-08T10:00:00Z"),
        expiring("gone", "image", 9, "2026-12-05T11:59:00Z"),
      ],
      NOW,
      UTC,
    );
    expect(lines.map(lineText)).toEqual([
      "1 video credit expires tomorrow at 10:00.",
      "40 image credits expire on Dec 8 at 10:00.",
    ]);
  });
});

describe("the banner", () => {
  const low = { type: "image" as const, balance: 12, threshold: 20, alert: alert() };

  it("shows low balances first, then expiring credits, and offers Top up only for a low balance", () => {
    const both = alerts({
      lowBalance: [low, { type: "video", balance: 3, threshold: 10, alert: alert("low_balance:e2") }],
      expiringSoon: [expiring("b", "image", 40, "2026-12-08T10:00:00Z")],
    });
    expect(texts(both)).toEqual([
      "Your image credits are low: 12 left, below your alert at 20.",
      "Your video credits are low: 3 left, below your alert at 10.",
      "40 image credits expire on Dec 8 at 10:00.",
    ]);
    expect(offersTopUp(bannerLines(both, NOW, UTC))).toBe(true);
    const onlyExpiring = alerts({ expiringSoon: [expiring("b", "image", 40, "2026-12-08T10:00:00Z")] });
    expect(offersTopUp(bannerLines(onlyExpiring, NOW, UTC))).toBe(false);
  });

  it("is empty when nothing holds (the answer that clears it)", () => {
    expect(texts(alerts({}))).toEqual([]);
    // A balance back at its threshold is not low.
    expect(texts(alerts({ lowBalance: [{ ...low, balance: 20 }] }))).toEqual([]);
  });

  it("stays dismissed until something new is shown", () => {
    const shown = bannerLines(
      alerts({ lowBalance: [low], expiringSoon: [expiring("b", "image", 40, "2026-12-08T10:00:00Z")] }),
      NOW,
      UTC,
    );
    const dismissed = shownIds(shown);
    expect(dismissed).toEqual(["alert:low_balance:e1", "block:b"]);
    expect(isDismissed(shown, dismissed)).toBe(true);
    // The expiring credits spent: still dismissed.
    expect(isDismissed(bannerLines(alerts({ lowBalance: [low] }), NOW, UTC), dismissed)).toBe(true);
    // A new crossing (a new alert) shows it again.
    const again = alerts({ lowBalance: [{ ...low, alert: alert("low_balance:e9") }] });
    expect(isDismissed(bannerLines(again, NOW, UTC), dismissed)).toBe(false);
    expect(isDismissed([], dismissed)).toBe(false);
  });
});

describe("asking again without a write", () => {
  it("waits for the soonest expiry or entry into the window", () => {
    const now = Date.parse("2026-12-01T00:00:00Z");
    const data = {
      blocks: JSON.stringify({
        soon: { type: "image", remaining: 40, expiresAt: "2026-12-05T00:00:00+00:00" },
        spent: { type: "image", remaining: 0, expiresAt: "2026-12-02T00:00:00+00:00" },
        forever: { type: "image", remaining: 500, expiresAt: null },
      }),
    };
    const expiries = expiryTimes(data);
    expect(expiries).toEqual([Date.parse("2026-12-05T00:00:00Z")]);
    // Dec 5 minus 3 days: Dec 2, a day from now (and a second to be sure).
    expect(nextRefresh(expiries, 3, now)).toBe(86_400_000 + 1000);
    // Within the window: at the expiry itself.
    expect(nextRefresh(expiries, 3, Date.parse("2026-12-04T00:00:00Z"))).toBe(86_400_000 + 1000);
    expect(nextRefresh(expiries, 3, Date.parse("2026-12-06T00:00:00Z"))).toBeNull();
    expect(nextRefresh([], 3, now)).toBeNull();
    expect(nextRefresh([now + 365 * 86_400_000], 3, now)).toBe(2 ** 31 - 1);
  });
});

describe("automatic top-up turned off by a failed payment", () => {
  const off = (reason: "card_declined" | "authentication_required", id = "auto_top_up_failed:d1") => ({
    type: "image" as const,
    reason,
    at: "2026-12-05T09:01:00Z",
    alert: { ...alert(id), kind: "auto_top_up_failed" } as CreditAlert,
  });

  it("says why, after the low balance it left behind and before expiring credits, with Top up", () => {
    const lines = bannerLines(
      alerts({
        lowBalance: [{ type: "image", balance: 8, threshold: 20, alert: alert() }],
        autoTopUpOff: [off("card_declined")],
        expiringSoon: [expiring("b1", "video", 5, "2026-12-06T09:05:00Z")],
      }),
      NOW,
      UTC,
    );
    expect(lines.map((line) => line.kind)).toEqual(["low_balance", "auto_top_up_failed", "expiring_soon"]);
    expect(lineText(lines[1] as BannerLine)).toBe(
      "Automatic top-up is off: your card was declined. Nothing was charged.",
    );
    expect(offersTopUp(lines.slice(1, 2))).toBe(true);
    expect(shownIds(lines.slice(1, 2))).toEqual(["alert:auto_top_up_failed:d1"]);
  });

  it("names an authentication the bank asked for", () => {
    expect(texts(alerts({ autoTopUpOff: [off("authentication_required")] }))).toEqual([
      "Automatic top-up is off: your bank asked to confirm the payment. Nothing was charged.",
    ]);
  });

  it("nothing when the API says nothing of it (or an older answer lacks the field)", () => {
    expect(texts(alerts({ autoTopUpOff: [] }))).toEqual([]);
    expect(texts(alerts({}))).toEqual([]);
  });

  it("a dismissed failure comes back for the next one", () => {
    const first = bannerLines(alerts({ autoTopUpOff: [off("card_declined")] }), NOW, UTC);
    const next = bannerLines(alerts({ autoTopUpOff: [off("card_declined", "auto_top_up_failed:d2")] }), NOW, UTC);
    expect(isDismissed(first, shownIds(first))).toBe(true);
    expect(isDismissed(next, shownIds(first))).toBe(false);
  });
});
