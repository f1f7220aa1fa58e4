import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFilters, ledgerQuery, ledgerSearch, parseLedgerFilters } from "./filters";

describe("ledger filters in the URL", () => {
  it("round-trips through the query string in a stable order", () => {
    const filters = parseLedgerFilters("?to=2026-11-20&source=refund&direction=credit&type=image&from=2026-11-01");
    expect(filters).toEqual({
      direction: "credit",
      type: "image",
      source: "refund",
      from: "2026-11-01",
      to: "2026-11-20",
    });
    expect(ledgerSearch(filters)).toBe("?direction=credit&type=image&source=refund&from=2026-11-01&to=2026-11-20");
    expect(parseLedgerFilters(ledgerSearch(filters))).toEqual(filters);
  });

  it("drops values the API would refuse instead of sending them", () => {
    expect(parseLedgerFilters("?direction=sideways&type=audio&source=x&from=yesterday&to=2026-13-45")).toEqual({});
    expect(hasFilters({})).toBe(false);
    expect(ledgerSearch({})).toBe("");
  });
});

describe("ledgerQuery", () => {
  const original = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "America/New_York";
  });
  afterAll(() => {
    process.env.TZ = original;
  });

  it("turns local days into the instants where they begin and end", () => {
    const query = ledgerQuery({ from: "2026-11-01", to: "2026-11-20", direction: "debit" });
    // New York is UTC-4 on 1 Nov (before the change back) and UTC-5 on 21 Nov.
    expect(query.from).toBe("2026-11-01T04:00:00.000Z");
    expect(query.to).toBe("2026-11-21T05:00:00.000Z");
    expect(query.direction).toBe("debit");
  });
});
