/**
 * The automatic top-up section's logic (docs/alerts.md, "Automatic top-up"): the form's values
 * and the patch they make, where the API's objections go, and what the section says: on or off,
 * the card, this month under the cap, and the one notice that matters most (turned off by a
 * failed payment, the cap reached, a top-up on its way). Pure functions.
 */
import { ApiError, type AutoTopUp, type AutoTopUpFailure, type AutoTopUpPatch, type Pack } from "../api/client";
import { failureTitle, whenText } from "./alerts";
import { count, monthDay } from "../format";
import { formatMoney, moneyInput, parseMoney } from "./money";

/** The API's largest threshold and monthly cap (openapi.yaml: `Threshold`, `monthlyCap`). */
export const MAX_THRESHOLD = 10_000_000;
export const MAX_MONTHLY_CAP = 100_000_000;
/** A new choice's cap: room for this many top-ups a month. */
export const DEFAULT_CAP_PACKS = 3;

export type Field = "pack" | "threshold" | "monthlyCap";
export type FieldErrors = Partial<Record<Field, string>>;

/** What the form holds: the pack's id and the two texts as typed. */
export interface Draft {
  pack: string;
  threshold: string;
  cap: string;
}

function credits(n: number, type: string): string {
  return `${count(n)} ${type} credit${n === 1 ? "" : "s"}`;
}

export function packOf(id: string | null | undefined, packs: readonly Pack[]): Pack | undefined {
  return packs.find((pack) => pack.id === id);
}

/**
 * The form for the saved choice; before there is one, the first pack, the type's low-balance
 * alert as the threshold (so the warning and the refill come together) and room for three packs.
 */
export function draftFrom(
  auto: AutoTopUp,
  packs: readonly Pack[],
  alertAt?: (type: string) => number | undefined,
): Draft {
  const pack = packOf(auto.pack, packs) ?? packs[0];
  if (!pack) return { pack: "", threshold: "", cap: "" };
  const threshold = auto.threshold ?? alertAt?.(pack.creditType) ?? 20;
  const cap = auto.monthlyCap ?? DEFAULT_CAP_PACKS * pack.unitAmount;
  return { pack: pack.id, threshold: String(threshold), cap: moneyInput(cap, pack.currency) };
}

/** A threshold as typed: a whole number of credits, at least 1 (at 0 nothing would ever be bought). */
export function parseTopUpThreshold(text: string): { value: number } | { error: string } {
  const digits = text.trim().replace(/[\s,_]/g, "");
  if (digits === "") return { error: "Enter a number of credits." };
  if (!/^\d+$/.test(digits)) return { error: "Enter a whole number of credits." };
  const value = Number(digits);
  if (value === 0) return { error: "Enter 1 or more: below 0 credits nothing would ever be bought." };
  if (value > MAX_THRESHOLD) return { error: `Enter at most ${count(MAX_THRESHOLD)} credits.` };
  return { value };
}

/** The cap as typed, in the pack's currency: at least one pack's price, at most the API's largest. */
export function parseCap(text: string, pack: Pack): { value: number } | { error: string } {
  const parsed = parseMoney(text, pack.currency);
  if ("error" in parsed) return parsed;
  if (parsed.value < pack.unitAmount) return { error: capTooLow(pack) };
  if (parsed.value > MAX_MONTHLY_CAP) return { error: `Enter at most ${formatMoney(MAX_MONTHLY_CAP, pack.currency)}.` };
  return parsed;
}

function capTooLow(pack: Pack): string {
  return `Enter at least one pack's price, ${formatMoney(pack.unitAmount, pack.currency)}.`;
}

/** The patch that turns automatic top-up on with the form's choice (or saves it while on), or what is wrong. */
export function checkDraft(draft: Draft, packs: readonly Pack[]): { patch: AutoTopUpPatch } | { errors: FieldErrors } {
  const pack = packOf(draft.pack, packs);
  const errors: FieldErrors = {};
  if (!pack) errors.pack = "Choose one of the packs.";
  const threshold = parseTopUpThreshold(draft.threshold);
  if ("error" in threshold) errors.threshold = threshold.error;
  const cap = pack ? parseCap(draft.cap, pack) : null;
  if (cap && "error" in cap) errors.monthlyCap = cap.error;
  if (!pack || "error" in threshold || !cap || "error" in cap) return { errors };
  return { patch: { enabled: true, pack: pack.id, threshold: threshold.value, monthlyCap: cap.value } };
}

/** Whether saving the form would change the saved choice. */
export function changes(patch: AutoTopUpPatch, auto: AutoTopUp): boolean {
  return patch.pack !== auto.pack || patch.threshold !== auto.threshold || patch.monthlyCap !== auto.monthlyCap;
}

/** How many whole packs a cap allows in a month: "$29.97 a month allows 3 top-ups." */
export function capHint(draft: Draft, packs: readonly Pack[]): string {
  const pack = packOf(draft.pack, packs);
  if (!pack) return "";
  const price = formatMoney(pack.unitAmount, pack.currency);
  const cap = parseMoney(draft.cap, pack.currency);
  if ("error" in cap || cap.value < pack.unitAmount) return `At least one pack's price, ${price}.`;
  const times = Math.floor(cap.value / pack.unitAmount);
  return `At least ${price}. ${formatMoney(cap.value, pack.currency)} allows ${times} top-up${times === 1 ? "" : "s"} a month.`;
}

/** The API's words for a field of automatic top-up, for people. */
export function fieldMessage(field: Field, message: string, pack: Pack | undefined): string {
  const most = /less than or equal to (\d+)/.exec(message);
  const least = /greater than or equal to (\d+)|at least one pack/.exec(message);
  if (field === "pack") return "Choose one of the packs.";
  if (field === "monthlyCap") {
    if (most && pack) return `Enter at most ${formatMoney(Number(most[1]), pack.currency)}.`;
    if (least && pack) return capTooLow(pack);
    if (/needed|together/.test(message)) return "Enter a monthly cap.";
    return "Enter an amount of money, at least one pack's price.";
  }
  if (most) return `Enter at most ${count(Number(most[1]))} credits.`;
  if (least) return `Enter ${count(Number(least[1]))} or more credits.`;
  if (/needed|together/.test(message)) return "Enter a number of credits.";
  return "Enter a whole number of credits.";
}

export interface Refusal {
  /** Next to each field the API named (`details.errors[].field` = `autoTopUp.<field>`). */
  fields: FieldErrors;
  /** Above the buttons: anything that is not about one field. */
  form: string | null;
  /** 409 `payment_method_required`: no saved card yet. */
  needsCard: boolean;
}

/** Where a refused change's errors go. */
export function refusalOf(error: unknown, pack: Pack | undefined): Refusal {
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: "Automatic top-up could not be changed. Try again.", needsCard: false };
  }
  if (error.code === "payment_method_required") {
    return {
      fields: {},
      form: "Automatic top-up needs a saved card, and you have none yet. Buy a pack above once: that purchase saves your card. Then turn automatic top-up on.",
      needsCard: true,
    };
  }
  const fields: FieldErrors = {};
  const listed = Array.isArray(error.details.errors) ? (error.details.errors as unknown[]) : [];
  for (const item of listed) {
    const { field, message } = (item ?? {}) as { field?: unknown; message?: unknown };
    const name = typeof field === "string" ? field.replace(/^autoTopUp\./, "") : "";
    if ((name === "pack" || name === "threshold" || name === "monthlyCap") && !fields[name]) {
      fields[name] = fieldMessage(name, typeof message === "string" ? message : "", pack);
    }
  }
  if (error.status === 400 && Object.keys(fields).length > 0) return { fields, form: null, needsCard: false };
  const text = error.message.trim();
  const form = text
    ? `Automatic top-up could not be changed: ${text}${/[.!?]$/.test(text) ? "" : "."}`
    : "Automatic top-up could not be changed. Try again.";
  return { fields, form, needsCard: false };
}

/** What to do about it. */
export function failureRemedy(reason: AutoTopUpFailure): string {
  switch (reason) {
    case "authentication_required":
      return "An automatic top-up runs while you are away, so nobody could confirm it (3‑D Secure). Buy a pack above and confirm that payment: it saves the card. Then turn automatic top-up on again.";
    case "payment_provider_unavailable":
      return "Turn automatic top-up on again to keep it going.";
    default:
      return "Buy a pack above with a card that works: the purchase saves it. Then turn automatic top-up on again.";
  }
}

export interface SectionNotice {
  kind: "turned_off" | "capped" | "cap_full" | "pending";
  tone: "error" | "warning" | "info";
  title: string;
  text: string;
}

function attemptFacts(auto: AutoTopUp): { what: string; type: string } | null {
  const last = auto.lastAttempt;
  const type = auto.creditType ?? "";
  if (last) return { what: `${credits(last.credits, type)} for ${formatMoney(last.amount, last.currency)}`, type };
  if (auto.credits && auto.unitAmount && auto.currency) {
    return { what: `${credits(auto.credits, type)} for ${formatMoney(auto.unitAmount, auto.currency)}`, type };
  }
  return null;
}

/**
 * The one notice the section shows, most pressing first: turned off by a failed payment (until
 * the user turns it on again), this month's cap reached by a crossing (it stays on, and resumes
 * next month), the cap too full for another pack, a top-up being charged. Null when none holds.
 */
export function sectionNotice(auto: AutoTopUp, now: Date, timeZone?: string): SectionNotice | null {
  const last = auto.lastAttempt;
  const facts = attemptFacts(auto);
  if (!auto.enabled && auto.turnedOff) {
    const off = auto.turnedOff;
    const at = off.at ? `${sentence(whenText(off.at, now, timeZone))} we tried to buy` : "We tried to buy";
    const tried = facts ? `${at} ${facts.what}; nothing was charged.` : "Nothing was charged.";
    // The provider's words add something only when the reason is the generic one.
    const said = off.reason === "payment_failed" && off.message ? ` The bank said: “${off.message.trim()}”` : "";
    return {
      kind: "turned_off",
      tone: "error",
      title: `Automatic top-up is off: ${failureTitle(off.reason)}.`,
      text: `${tried}${said} ${failureRemedy(off.reason)}`,
    };
  }
  if (!auto.enabled) return null;
  const month = auto.month;
  const resets = month ? monthDay(month.resetsAt, "UTC") : null;
  if (last?.status === "capped" && month && last.month === month.month) {
    const cap = auto.monthlyCap !== null ? formatMoney(auto.monthlyCap, month.currency) : "your cap";
    return {
      kind: "capped",
      tone: "warning",
      title: "This month's cap is reached.",
      text: `${sentence(whenText(last.createdAt, now, timeZone))} your ${auto.creditType ?? ""} credits fell below ${count(auto.threshold ?? 0)}, but buying ${credits(last.credits, auto.creditType ?? "")} (${formatMoney(last.amount, last.currency)}) would have gone over your monthly cap of ${cap}, so nothing was charged. Automatic top-up stays on and buys again from ${resets}.`,
    };
  }
  if (month && month.remaining !== null && auto.unitAmount !== null && month.remaining < auto.unitAmount) {
    return {
      kind: "cap_full",
      tone: "warning",
      title: "This month's cap is reached.",
      text: `${formatMoney(month.remaining, month.currency)} is left of your cap, less than one pack: automatic top-up buys again from ${resets}.`,
    };
  }
  if (last?.status === "pending" && facts) {
    return {
      kind: "pending",
      tone: "info",
      title: `Buying ${facts.what}…`,
      text: "The credits appear on Credits usage as soon as the payment is confirmed.",
    };
  }
  return null;
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What it does when on: "When your image credits fall below 30, buy 100 image credits for $9.99, up to $29.97 a month." */
export function summaryText(auto: AutoTopUp): string | null {
  if (auto.threshold === null || auto.credits === null || auto.unitAmount === null || !auto.currency) return null;
  const type = auto.creditType ?? "";
  const cap = auto.monthlyCap !== null ? `, up to ${formatMoney(auto.monthlyCap, auto.currency)} a month` : "";
  return `When your ${type} credits fall below ${count(auto.threshold)}, buy ${credits(auto.credits, type)} for ${formatMoney(auto.unitAmount, auto.currency)}${cap}.`;
}

/** This month under the cap: "$9.99 charged, $19.98 left of your $29.97 cap. Resets on Dec 1." */
export function monthText(auto: AutoTopUp): string | null {
  const month = auto.month;
  if (!month || auto.monthlyCap === null) return null;
  const parts = [`${formatMoney(month.charged, month.currency)} charged`];
  if (month.pending > 0) parts.push(`${formatMoney(month.pending, month.currency)} being charged`);
  const left = month.remaining ?? 0;
  parts.push(`${formatMoney(left, month.currency)} left of your ${formatMoney(auto.monthlyCap, month.currency)} cap`);
  return `${parts.join(", ")}. Resets on ${monthDay(month.resetsAt, "UTC")}.`;
}

const TEST_CARDS: Record<NonNullable<AutoTopUp["paymentMethod"]["testCard"]>, string> = {
  succeeds: "automatic top-ups succeed",
  declined: "automatic top-ups are declined",
  authentication_required: "automatic top-ups need authentication",
};

/** The saved card: whether there is one, since when, and on the emulators which test card. */
export function cardText(method: AutoTopUp["paymentMethod"], timeZone?: string): string {
  if (!method.saved) return "No card saved yet. Your first purchase of a pack above saves it for automatic top-up.";
  const when = method.savedAt ? ` on ${monthDay(method.savedAt, timeZone)}` : "";
  const test = method.testCard ? ` Test card: ${TEST_CARDS[method.testCard]}.` : "";
  return `The card of your purchase${when} is saved for automatic top-up.${test}`;
}
