/**
 * Money for people: amounts arrive from the API in the currency's minor unit (999 is $9.99, as
 * Stripe counts), and a monthly cap is typed by the user in the major unit ("29.97"). Pure
 * functions; the currency's own number of decimals comes from `Intl` (0 for JPY, 2 for USD).
 */

const formats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  const code = currency.toUpperCase();
  let format = formats.get(code);
  if (format === undefined) {
    format = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
    formats.set(code, format);
  }
  return format;
}

/** How many decimals the currency's minor unit has: 2 for USD and EUR, 0 for JPY. */
export function minorDigits(currency: string): number {
  return currencyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** "$9.99" for (999, "usd"); "¥1,000" for (1000, "jpy"). */
export function formatMoney(minor: number, currency: string): string {
  return currencyFormat(currency).format(minor / 10 ** minorDigits(currency));
}

/** The currency's symbol as the page shows it before an amount: "$", "€", "¥". */
export function currencySymbol(currency: string): string {
  const part = currencyFormat(currency)
    .formatToParts(0)
    .find((p) => p.type === "currency");
  return part?.value ?? currency.toUpperCase();
}

/** An amount as a form field holds it, without symbol or grouping: "29.97", "1000". */
export function moneyInput(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/**
 * An amount as typed, in the currency's major unit, into its minor unit: "29.97", "$29.97",
 * "30", "1,000.5" (USD: 2997, 2997, 3000, 100050). Refused: text, a negative, more decimals
 * than the currency has.
 */
export function parseMoney(text: string, currency: string): { value: number } | { error: string } {
  const digits = minorDigits(currency);
  const symbol = currencySymbol(currency);
  const cleaned = text
    .trim()
    .replace(symbol, "")
    .replace(/[\s,_]/g, "")
    .replace(/^\$/, "");
  if (cleaned === "") return { error: "Enter an amount." };
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return { error: `Enter an amount such as ${formatMoney(30 * 10 ** digits, currency)}.` };
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > digits) {
    return {
      error:
        digits === 0
          ? `Enter a whole amount: ${currency.toUpperCase()} has no smaller unit.`
          : `Enter at most ${digits} decimals.`,
    };
  }
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  if (!Number.isSafeInteger(minor)) return { error: "Enter a smaller amount." };
  return { value: minor };
}
