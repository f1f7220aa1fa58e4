import { describe, expect, it } from "vitest";
import { ApiError, type AutoTopUp, type Pack } from "../api/client";
import {
  capHint,
  cardText,
  changes,
  checkDraft,
  draftFrom,
  monthText,
  parseTopUpThreshold,
  refusalOf,
  sectionNotice,
  summaryText,
} from "./autoTopUp";

const PACKS: Pack[] = [
  {
    id: "price_pack_image_100",
    name: "100 image credits",
    creditType: "image",
    credits: 100,
    unitAmount: 999,
    currency: "usd",
    lastsDays: null,
  },
  {
    id: "price_pack_video_60",
    name: "60 video credits",
    creditType: "video",
    credits: 60,
    unitAmount: 1499,
    currency: "usd",
    lastsDays: null,
  },
];
const [IMAGE_PACK] = PACKS as [Pack, Pack];

const NOW = new Date("2026-11-22T15:00:00Z");
const TZ = "UTC";

/** Never touched: off, no pack, no card. */
const NEW: AutoTopUp = {
  enabled: false,
  pack: null,
  threshold: null,
  monthlyCap: null,
  creditType: null,
  credits: null,
  unitAmount: null,
  currency: null,
  enabledAt: null,
  changedAt: null,
  turnedOff: null,
  paymentMethod: { saved: false, savedAt: null, testCard: null },
  month: null,
  lastAttempt: null,
};

type Month = NonNullable<AutoTopUp["month"]>;
type Attempt = NonNullable<AutoTopUp["lastAttempt"]>;

const MONTH: Month = {
  month: "2026-11",
  currency: "usd",
  charged: 999,
  pending: 0,
  remaining: 1998,
  resetsAt: "2026-12-01T00:00:00Z",
};

const LAST: Attempt = {
  id: "debit1",
  status: "succeeded",
  pack: "price_pack_image_100",
  credits: 100,
  amount: 999,
  currency: "usd",
  month: "2026-11",
  createdAt: "2026-11-22T09:01:00Z",
  settledAt: "2026-11-22T09:01:02Z",
  creditEntryId: "purchase1",
  failure: null,
};

/** On: 100 image credits below 30, at most $29.97 a month; one top-up charged this month. */
const ON: AutoTopUp = {
  ...NEW,
  enabled: true,
  pack: "price_pack_image_100",
  threshold: 30,
  monthlyCap: 2997,
  creditType: "image",
  credits: 100,
  unitAmount: 999,
  currency: "usd",
  enabledAt: "2026-11-21T10:00:00Z",
  changedAt: "2026-11-21T10:00:00Z",
  paymentMethod: { saved: true, savedAt: "2026-11-21T09:58:00Z", testCard: null },
  month: MONTH,
  lastAttempt: LAST,
};

describe("the form", () => {
  it("starts from the saved choice", () => {
    expect(draftFrom(ON, PACKS)).toEqual({ pack: "price_pack_image_100", threshold: "30", cap: "29.97" });
  });

  it("offers the first pack, the type's low-balance alert and room for three packs before any choice", () => {
    expect(draftFrom(NEW, PACKS, (type) => (type === "image" ? 25 : undefined))).toEqual({
      pack: "price_pack_image_100",
      threshold: "25",
      cap: "29.97",
    });
    expect(draftFrom(NEW, PACKS).threshold).toBe("20");
  });

  it("turns on with all three, in the API's units", () => {
    expect(checkDraft({ pack: "price_pack_video_60", threshold: "1,000", cap: "$45" }, PACKS)).toEqual({
      patch: { enabled: true, pack: "price_pack_video_60", threshold: 1000, monthlyCap: 4500 },
    });
  });

  it("says what is wrong next to each field, and sends nothing", () => {
    expect(checkDraft({ pack: "price_plan_pro_monthly", threshold: "x", cap: "5" }, PACKS)).toEqual({
      errors: { pack: "Choose one of the packs.", threshold: "Enter a whole number of credits." },
    });
    expect(checkDraft({ pack: "price_pack_image_100", threshold: "30", cap: "9.98" }, PACKS)).toEqual({
      errors: { monthlyCap: "Enter at least one pack's price, $9.99." },
    });
    expect(checkDraft({ pack: "price_pack_image_100", threshold: "30", cap: "2000000" }, PACKS)).toEqual({
      errors: { monthlyCap: "Enter at most $1,000,000.00." },
    });
    expect(checkDraft({ pack: "price_pack_image_100", threshold: "30", cap: "" }, PACKS)).toEqual({
      errors: { monthlyCap: "Enter an amount." },
    });
  });

  it("refuses a threshold of 0, which would never buy, and one past the API's largest", () => {
    expect(parseTopUpThreshold("0")).toEqual({
      error: "Enter 1 or more: below 0 credits nothing would ever be bought.",
    });
    expect(parseTopUpThreshold("10000001")).toEqual({ error: "Enter at most 10,000,000 credits." });
    expect(parseTopUpThreshold("")).toEqual({ error: "Enter a number of credits." });
    expect(parseTopUpThreshold(" 10 000 ")).toEqual({ value: 10000 });
  });

  it("knows when Save would change nothing", () => {
    expect(changes({ enabled: true, pack: "price_pack_image_100", threshold: 30, monthlyCap: 2997 }, ON)).toBe(false);
    expect(changes({ enabled: true, pack: "price_pack_image_100", threshold: 30, monthlyCap: 3000 }, ON)).toBe(true);
  });

  it("says how many top-ups the cap allows", () => {
    expect(capHint({ pack: "price_pack_image_100", threshold: "30", cap: "29.97" }, PACKS)).toBe(
      "At least $9.99. $29.97 allows 3 top-ups a month.",
    );
    expect(capHint({ pack: "price_pack_image_100", threshold: "30", cap: "10" }, PACKS)).toBe(
      "At least $9.99. $10.00 allows 1 top-up a month.",
    );
    expect(capHint({ pack: "price_pack_image_100", threshold: "30", cap: "5" }, PACKS)).toBe(
      "At least one pack's price, $9.99.",
    );
  });
});

describe("a refused change", () => {
  it("puts a 400's fields next to them, in people's words", () => {
    const error = new ApiError(400, "invalid_argument", "invalid request body", {
      errors: [
        { field: "autoTopUp.monthlyCap", message: "must be at least one pack: 999 usd" },
        { field: "autoTopUp.threshold", message: "Input should be less than or equal to 10000000" },
      ],
    });
    expect(refusalOf(error, IMAGE_PACK)).toEqual({
      fields: { monthlyCap: "Enter at least one pack's price, $9.99.", threshold: "Enter at most 10,000,000 credits." },
      form: null,
      needsCard: false,
    });
    const cap = new ApiError(400, "invalid_argument", "invalid request body", {
      errors: [{ field: "autoTopUp.monthlyCap", message: "Input should be less than or equal to 100000000" }],
    });
    expect(refusalOf(cap, IMAGE_PACK).fields).toEqual({ monthlyCap: "Enter at most $1,000,000.00." });
    const pack = new ApiError(400, "invalid_argument", "invalid request body", {
      errors: [{ field: "autoTopUp.pack", message: "not a credit pack: use an id from GET /api/credits/packs" }],
    });
    expect(refusalOf(pack, IMAGE_PACK).fields).toEqual({ pack: "Choose one of the packs." });
  });

  it("says that a purchase saves the card when there is none (409)", () => {
    const error = new ApiError(409, "payment_method_required", "automatic top-up needs a saved card", {
      field: "autoTopUp.enabled",
    });
    const refusal = refusalOf(error, IMAGE_PACK);
    expect(refusal.needsCard).toBe(true);
    expect(refusal.fields).toEqual({});
    expect(refusal.form).toMatch(/^Automatic top-up needs a saved card, and you have none yet\. Buy a pack above once/);
  });

  it("says anything else above the buttons", () => {
    expect(refusalOf(new ApiError(503, "unavailable", "try again later"), IMAGE_PACK).form).toBe(
      "Automatic top-up could not be changed: try again later.",
    );
    expect(refusalOf(new TypeError("Failed to fetch"), IMAGE_PACK).form).toBe(
      "Automatic top-up could not be changed. Try again.",
    );
  });
});

describe("what the section says", () => {
  it("sums up the choice and this month under the cap", () => {
    expect(summaryText(ON)).toBe(
      "When your image credits fall below 30, buy 100 image credits for $9.99, up to $29.97 a month.",
    );
    expect(summaryText(NEW)).toBeNull();
    expect(monthText(ON)).toBe("$9.99 charged, $19.98 left of your $29.97 cap. Resets on Dec 1.");
    const charging = { ...ON, month: { ...MONTH, charged: 0, pending: 999, remaining: 1998 } };
    expect(monthText(charging)).toBe(
      "$0.00 charged, $9.99 being charged, $19.98 left of your $29.97 cap. Resets on Dec 1.",
    );
    expect(monthText(NEW)).toBeNull();
  });

  it("tells whether a card is saved, and which test card", () => {
    expect(cardText(NEW.paymentMethod)).toBe(
      "No card saved yet. Your first purchase of a pack above saves it for automatic top-up.",
    );
    expect(cardText(ON.paymentMethod, TZ)).toBe("The card of your purchase on Nov 21 is saved for automatic top-up.");
    expect(cardText({ saved: true, savedAt: "2026-11-21T09:58:00Z", testCard: "declined" }, TZ)).toBe(
      "The card of your purchase on Nov 21 is saved for automatic top-up. Test card: automatic top-ups are declined.",
    );
  });
});

describe("which notice the section shows", () => {
  const failed = (reason: NonNullable<AutoTopUp["turnedOff"]>["reason"], message: string | null = null): AutoTopUp => ({
    ...ON,
    enabled: false,
    turnedOff: {
      reason,
      at: "2026-11-22T09:01:03Z",
      attemptId: "debit1",
      alertId: `auto_top_up_failed:debit1`,
      message,
    },
    lastAttempt: {
      ...LAST,
      status: "failed",
      creditEntryId: null,
      failure: { reason, code: reason, declineCode: null, message },
    },
  });

  it("none while all is well, or when it is simply off", () => {
    expect(sectionNotice(ON, NOW, TZ)).toBeNull();
    expect(sectionNotice(NEW, NOW, TZ)).toBeNull();
    expect(sectionNotice({ ...ON, enabled: false }, NOW, TZ)).toBeNull();
  });

  it("turned off by a declined card: why, when, and what to do", () => {
    expect(sectionNotice(failed("card_declined", "Your card was declined."), NOW, TZ)).toEqual({
      kind: "turned_off",
      tone: "error",
      title: "Automatic top-up is off: your card was declined.",
      text:
        "Today at 09:01 we tried to buy 100 image credits for $9.99; nothing was charged. " +
        "Buy a pack above with a card that works: the purchase saves it. Then turn automatic top-up on again.",
    });
  });

  it("turned off for authentication: explains why nobody could confirm it", () => {
    const notice = sectionNotice(failed("authentication_required"), NOW, TZ);
    expect(notice?.title).toBe("Automatic top-up is off: your bank asked to confirm the payment.");
    expect(notice?.text).toContain("nobody could confirm it (3‑D Secure)");
  });

  it("quotes the bank only when the reason alone says little", () => {
    expect(sectionNotice(failed("payment_failed", "Your card has expired."), NOW, TZ)?.text).toContain(
      "The bank said: “Your card has expired.”",
    );
    expect(sectionNotice(failed("card_declined", "Your card was declined."), NOW, TZ)?.text).not.toContain("bank said");
  });

  it("the failure's notice goes when it is turned on again", () => {
    expect(sectionNotice({ ...failed("card_declined"), enabled: true, turnedOff: null }, NOW, TZ)).toBeNull();
  });

  it("the cap reached by a crossing this month: nothing charged, it stays on, and when it buys again", () => {
    const CAPPED_LAST: Attempt = {
      ...LAST,
      id: "debit2",
      status: "capped",
      createdAt: "2026-11-22T11:30:00Z",
      creditEntryId: null,
    };
    const capped: AutoTopUp = {
      ...ON,
      monthlyCap: 999,
      month: { ...MONTH, charged: 999, remaining: 0 },
      lastAttempt: CAPPED_LAST,
    };
    expect(sectionNotice(capped, NOW, TZ)).toEqual({
      kind: "capped",
      tone: "warning",
      title: "This month's cap is reached.",
      text:
        "Today at 11:30 your image credits fell below 30, but buying 100 image credits ($9.99) would have gone over " +
        "your monthly cap of $9.99, so nothing was charged. Automatic top-up stays on and buys again from Dec 1.",
    });
    // Last month's capped attempt says nothing about this month.
    expect(sectionNotice({ ...capped, lastAttempt: { ...CAPPED_LAST, month: "2026-10" } }, NOW, TZ)?.kind).toBe(
      "cap_full",
    );
  });

  it("a cap with no room for another pack, before any crossing meets it", () => {
    const full: AutoTopUp = { ...ON, monthlyCap: 1500, month: { ...MONTH, charged: 999, remaining: 501 } };
    expect(sectionNotice(full, NOW, TZ)).toEqual({
      kind: "cap_full",
      tone: "warning",
      title: "This month's cap is reached.",
      text: "$5.01 is left of your cap, less than one pack: automatic top-up buys again from Dec 1.",
    });
  });

  it("a top-up on its way", () => {
    const pending: AutoTopUp = { ...ON, lastAttempt: { ...LAST, status: "pending", settledAt: null } };
    expect(sectionNotice(pending, NOW, TZ)).toMatchObject({
      kind: "pending",
      title: "Buying 100 image credits for $9.99…",
    });
  });
});
