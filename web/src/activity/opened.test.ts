import { describe, expect, it } from "vitest";
import type { ActivityDetail, ActivityItem, Entry, Job } from "../api/client";
import { openedFromDetail, openedFromItem, openedToRecord } from "./opened";

const CHARGED = { type: "image" as const, charged: 10, refunded: 0, net: -10, debitEntryId: "d1", refundEntryId: null };

function item(fields: Partial<ActivityItem>): ActivityItem {
  return {
    id: "job:j1",
    kind: "generation",
    type: "generation_completed",
    time: "2026-11-22T00:00:00Z",
    summary: "",
    ...fields,
  };
}

const job = { id: "j1", status: "completed" } as Job;
const entry = (id: string) => ({ id }) as Entry;

interface Case {
  name: string;
  listed: ActivityItem;
  detail: ActivityDetail;
}

// Pairs as the API answers them: the feed's item, and the detail of the same item.
const charged: Case = {
  name: "a charged generation",
  listed: item({ jobId: "j1", credits: CHARGED }),
  detail: { item: item({ jobId: "j1", credits: CHARGED }), job, entries: [entry("d1")] },
};
const refunded: Case = {
  name: "a refunded generation",
  listed: item({ type: "generation_failed", jobId: "j1", credits: { ...CHARGED, refunded: 10, refundEntryId: "r1" } }),
  detail: { item: item({ type: "generation_failed", jobId: "j1" }), job, entries: [entry("d1"), entry("r1")] },
};
const uncharged: Case = {
  name: "a generation never charged",
  listed: item({ type: "generation_failed", jobId: "j1", credits: null }),
  detail: { item: item({ type: "generation_failed", jobId: "j1", credits: null }), job, entries: [] },
};
const purchase: Case = {
  name: "a purchase",
  listed: item({ id: "entry:p1", kind: "credits", type: "credits_purchased", entryId: "p1", jobId: null }),
  detail: {
    item: item({ id: "entry:p1", kind: "credits", type: "credits_purchased", entryId: "p1", jobId: null }),
    job: null,
    entries: [entry("p1")],
  },
};
const refund: Case = {
  name: "a refund of a generation",
  listed: item({ id: "entry:r1", kind: "credits", type: "credits_refunded", entryId: "r1", jobId: "j1" }),
  detail: {
    item: item({ id: "entry:r1", kind: "credits", type: "credits_refunded", entryId: "r1", jobId: "j1" }),
    job,
    entries: [entry("r1")],
  },
};

describe("the properties of activity_item_opened", () => {
  it.each([charged, refunded, uncharged, purchase, refund])(
    "agree between the list item and the loaded detail: $name",
    ({ listed, detail }) => {
      expect(openedFromItem(listed)).toEqual(openedFromDetail(detail));
    },
  );

  it("say what the item links to", () => {
    expect(openedFromItem(charged.listed)).toEqual({
      activity_type: "generation_completed",
      has_generation_link: true,
      has_credit_link: true,
    });
    expect(openedFromItem(uncharged.listed)).toEqual({
      activity_type: "generation_failed",
      has_generation_link: true,
      has_credit_link: false,
    });
    expect(openedFromItem(purchase.listed)).toEqual({
      activity_type: "credits_purchased",
      has_generation_link: false,
      has_credit_link: true,
    });
  });
});

describe("when an opening is recorded", () => {
  const listed = charged.listed;
  const detail = charged.detail;
  const fromList = openedFromItem(listed);

  it("opened from the list: at once, with the list item's properties, and not again when the data arrives", () => {
    expect(openedToRecord({ itemId: listed.id, listItem: listed, detail: null, recorded: null })).toEqual(fromList);
    expect(openedToRecord({ itemId: listed.id, listItem: listed, detail: null, recorded: listed.id })).toBeNull();
    expect(openedToRecord({ itemId: listed.id, listItem: listed, detail, recorded: listed.id })).toBeNull();
  });

  it("opened by a deep link: only once the detail has loaded, then once", () => {
    expect(openedToRecord({ itemId: "job:j1", listItem: null, detail: null, recorded: null })).toBeNull();
    expect(openedToRecord({ itemId: "job:j1", listItem: null, detail, recorded: null })).toEqual(
      openedFromDetail(detail),
    );
    expect(openedToRecord({ itemId: "job:j1", listItem: null, detail, recorded: "job:j1" })).toBeNull();
  });

  it("another item shown in the same drawer is a new opening, and so is coming back to the first", () => {
    expect(openedToRecord({ itemId: "entry:r1", listItem: null, detail: null, recorded: "job:j1" })).toBeNull();
    expect(openedToRecord({ itemId: "entry:r1", listItem: null, detail: refund.detail, recorded: "job:j1" })).toEqual({
      activity_type: "credits_refunded",
      has_generation_link: true,
      has_credit_link: true,
    });
    expect(openedToRecord({ itemId: "job:j1", listItem: null, detail, recorded: "entry:r1" })).toEqual(fromList);
  });

  it("ignores a list item that is not the one shown", () => {
    expect(openedToRecord({ itemId: "entry:r1", listItem: listed, detail: null, recorded: null })).toBeNull();
  });
});
