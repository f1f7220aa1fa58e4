import { describe, expect, it } from "vitest";
import { currencySymbol, formatMoney, minorDigits, moneyInput, parseMoney } from "./money";

describe("money from the API's minor unit", () => {
  it("is shown with the currency's own decimals", () => {
    expect(formatMoney(999, "usd")).toBe("$9.99");
    expect(formatMoney(2997, "USD")).toBe("$29.97");
    expect(formatMoney(100_000_000, "usd")).toBe("$1,000,000.00");
    expect(formatMoney(0, "usd")).toBe("$0.00");
    expect(formatMoney(1500, "eur")).toBe("€15.00");
    expect(formatMoney(1000, "jpy")).toBe("¥1,000"); // no minor unit: 1000 is ¥1,000, not ¥10
    expect(minorDigits("usd")).toBe(2);
    expect(minorDigits("jpy")).toBe(0);
  });

  it("goes into a field without symbol or grouping", () => {
    expect(moneyInput(2997, "usd")).toBe("29.97");
    expect(moneyInput(3000, "usd")).toBe("30.00");
    expect(moneyInput(1000, "jpy")).toBe("1000");
    expect(currencySymbol("usd")).toBe("$");
    expect(currencySymbol("eur")).toBe("€");
  });
});

describe("money as typed", () => {
  it("reads the major unit into the minor unit", () => {
    expect(parseMoney("29.97", "usd")).toEqual({ value: 2997 });
    expect(parseMoney(" $29.97 ", "usd")).toEqual({ value: 2997 });
    expect(parseMoney("30", "usd")).toEqual({ value: 3000 });
    expect(parseMoney("30.", "usd")).toEqual({ value: 3000 });
    expect(parseMoney("9.9", "usd")).toEqual({ value: 990 });
    expect(parseMoney("1,000.50", "usd")).toEqual({ value: 100050 });
    expect(parseMoney("€15", "eur")).toEqual({ value: 1500 });
    expect(parseMoney("1000", "jpy")).toEqual({ value: 1000 });
  });

  it("refuses what is not an amount, and more decimals than the currency has", () => {
    expect(parseMoney("", "usd")).toEqual({ error: "Enter an amount." });
    for (const bad of ["ten", "-5", "1e3", "3.4.5"]) {
      expect(parseMoney(bad, "usd")).toEqual({ error: "Enter an amount such as $30.00." });
    }
    expect(parseMoney("9.999", "usd")).toEqual({ error: "Enter at most 2 decimals." });
    expect(parseMoney("10.5", "jpy")).toEqual({ error: "Enter a whole amount: JPY has no smaller unit." });
  });
});
