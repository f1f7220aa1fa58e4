import { describe, expect, it } from "vitest";
import { dayKey, localDateTime, metaSummary, signed, sourceLabel, utcDateTime } from "./format";

describe("signed", () => {
  it("puts a sign on credits and debits and groups thousands", () => {
    expect(signed(300)).toBe("+300");
    expect(signed(-10)).toBe("−10");
    expect(signed(12500)).toBe("+12,500");
    expect(signed(0)).toBe("0");
  });
});

describe("times", () => {
  const iso = "2026-11-22T03:30:05.123Z";
  it("shows local time in the given zone and the UTC time beside it", () => {
    expect(localDateTime(iso, "America/New_York")).toBe("Nov 21, 2026, 22:30");
    expect(localDateTime(iso, "Asia/Tokyo")).toBe("Nov 22, 2026, 12:30");
    expect(utcDateTime(iso)).toBe("2026-11-22 03:30:05 UTC");
  });
  it("takes the calendar day in the user's zone, not in UTC", () => {
    expect(dayKey(new Date(iso), "America/New_York")).toBe("2026-11-21");
    expect(dayKey(new Date(iso), "UTC")).toBe("2026-11-22");
  });
});

describe("metaSummary", () => {
  it("summarises what a debit paid for", () => {
    expect(metaSummary({ numImages: 5, quality: "hq", model: "flux-pro", aspectRatio: "9:16" })).toBe(
      "5 images · HQ · flux-pro · 9:16",
    );
    expect(metaSummary({ durationSec: 8, quality: "standard" })).toBe("8 s video · Standard");
    expect(metaSummary({ numImages: 1 })).toBe("1 image");
    expect(metaSummary({ unknown: { nested: true } })).toBe("");
  });
});

describe("sourceLabel", () => {
  it("names every source for people and passes unknown ones through", () => {
    expect(sourceLabel("subscription_grant")).toBe("Plan refresh");
    expect(sourceLabel("future_source")).toBe("future_source");
  });
});
