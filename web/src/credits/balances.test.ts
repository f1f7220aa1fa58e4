import { describe, expect, it } from "vitest";
import { amountsOf, balanceCards } from "./balances";

describe("balance cards", () => {
  it("shows image and video always, zero before the first entry", () => {
    expect(balanceCards({}).map((card) => [card.label, card.value])).toEqual([
      ["Image credits", 0],
      ["Video credits", 0],
    ]);
  });

  it("reads every credit type of the document as data", () => {
    const amounts = amountsOf({
      video: 39,
      audio: 12,
      image: 284,
      seq: 7,
      blocksSince: 2,
      blocks: "{}",
      nextExpiry: null,
      updatedAt: { seconds: 1 },
    });
    expect(amounts).toEqual({ image: 284, video: 39, audio: 12 });
    expect(balanceCards(amounts).map((card) => [card.type, card.label, card.value])).toEqual([
      ["image", "Image credits", 284],
      ["video", "Video credits", 39],
      ["audio", "Audio credits", 12],
    ]);
  });

  it("reads a document not yet moved from the amounts map", () => {
    expect(amountsOf({ amounts: { image: 5, video: 2 }, seq: 3 })).toEqual({ image: 5, video: 2 });
  });

  it("ignores what is not an amount", () => {
    expect(amountsOf(undefined)).toEqual({});
    expect(amountsOf({ seq: 4, blocksSince: 1 })).toEqual({});
    expect(amountsOf({ image: "5", video: 2.5, audio: 3 })).toEqual({ audio: 3 });
  });
});
