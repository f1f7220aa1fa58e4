import { describe, expect, it } from "vitest";
import type { ActivityItem } from "../api/client";
import { creditsDelta, creditsHeadline, exportFilters, generationCost, generationCredits } from "./labels";

function item(fields: Partial<ActivityItem>): ActivityItem {
  return {
    id: "x",
    kind: "generation",
    type: "generation_completed",
    time: "2026-11-22T00:00:00Z",
    summary: "",
    ...fields,
  };
}

describe("generation credits", () => {
  it("shows what a job cost, or what came back when it was refunded", () => {
    const charged = {
      type: "image" as const,
      charged: 10,
      refunded: 0,
      net: -10,
      debitEntryId: "d",
      refundEntryId: null,
    };
    expect(generationCredits(item({ credits: charged }))).toEqual({ text: "−10 credits", tone: "debit" });
    expect(generationCredits(item({ credits: { ...charged, refunded: 10, net: 0, refundEntryId: "r" } }))).toEqual({
      text: "+10 refunded",
      tone: "credit",
    });
    expect(generationCredits(item({ credits: null }))).toBeNull();
    expect(generationCredits(item({ credits: { ...charged, charged: 1, net: -1 } }))?.text).toBe("−1 credit");
    expect(generationCost(charged)).toBe("−10 image credits");
    expect(generationCost({ ...charged, refunded: 10, net: 0 })).toBe("−10 image credits, +10 refunded");
    expect(generationCost(null)).toBe("Not charged");
  });
});

describe("credits items", () => {
  it("reads like the wireframe", () => {
    const refresh = item({
      kind: "credits",
      type: "credits_refreshed",
      reason: "Pro plan",
      delta: 300,
      creditType: "image",
    });
    expect(creditsHeadline(refresh)).toBe("Credits refreshed (Pro plan)");
    expect(creditsDelta(refresh)).toBe("+300 image credits");
    expect(creditsHeadline(item({ kind: "credits", type: "credits_adjusted", reason: "" }))).toBe("Credits adjusted");
    const stripe = item({ kind: "credits", type: "credits_refreshed", reason: "Credits refreshed (Video plan)" });
    expect(creditsHeadline(stripe)).toBe("Credits refreshed (Video plan)");
  });

  it("leads an automatic top-up's purchase with that", () => {
    const auto = item({ kind: "credits", type: "credits_purchased", reason: "Automatic top-up: 100 image credits" });
    expect(creditsHeadline(auto)).toBe("Automatic top-up: 100 image credits");
    const bought = item({ kind: "credits", type: "credits_purchased", reason: "Purchased 100 image credits" });
    expect(creditsHeadline(bought)).toBe("Credits purchased (Purchased 100 image credits)");
  });
});

describe("exportFilters", () => {
  it("names each filter an export was asked with", () => {
    expect(exportFilters({ type: "image", source: "purchase", from: "2026-11-01" })).toBe(
      "Image credits, Purchase, from 2026-11-01",
    );
    expect(exportFilters({ direction: "debit", to: "2026-11-30" })).toBe("Credits taken, to 2026-11-30");
  });

  it("says all entries when there was no filter", () => {
    expect(exportFilters({})).toBe("All entries");
    expect(exportFilters(undefined)).toBe("All entries");
  });
});
