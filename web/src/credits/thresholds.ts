/**
 * The low-balance alerts form's logic: what the user typed, what it changes
 * (`PATCH /api/credits/settings` names only the types that change; null puts a type back to
 * its default) and where the API's objections go (docs/alerts.md, "Settings"). Pure functions.
 */
import { ApiError, type CreditSettings, type CreditSettingsPatch } from "../api/client";
import { count } from "../format";

export type Saved = CreditSettings["lowBalance"][keyof CreditSettings["lowBalance"]];

/** One credit type's field: the text typed, and whether it follows the default. */
export interface Row {
  type: string;
  text: string;
  /** True after "Use default" (or when the saved value is the default and nothing was typed). */
  useDefault: boolean;
  default: number;
  saved: Saved;
}

/** The rows for the settings in force, in the API's type order. */
export function rowsFrom(settings: CreditSettings): Row[] {
  return Object.entries(settings.lowBalance).map(([type, saved]) => ({
    type,
    text: String(saved.threshold),
    useDefault: saved.isDefault,
    default: saved.default,
    saved,
  }));
}

/**
 * A threshold as typed: a whole number of credits, 0 or more ("1,000" and "1 000" are read as
 * 1000). Its range is the API's to judge (its objection is shown next to the field).
 */
export function parseThreshold(text: string): { value: number } | { error: string } {
  const digits = text.trim().replace(/[\s,_]/g, "");
  if (digits === "") return { error: "Enter a number of credits (0 turns the alert off)." };
  if (!/^\d+$/.test(digits)) return { error: "Enter a whole number of credits, 0 or more." };
  return { value: Number(digits) };
}

/** What the row's hint says under the field. */
export function rowHint(row: Row): string {
  const parsed = parseThreshold(row.text);
  if ("value" in parsed && parsed.value === 0) return `Off: no low-balance alert for ${row.type} credits.`;
  if (row.useDefault) return `The default, ${count(row.default)} credits.`;
  return `Your own; the default is ${count(row.default)}.`;
}

/**
 * The patch that makes the saved settings what the rows say, naming only the types that change,
 * or the errors by type when a field is not a threshold (nothing is sent then).
 */
export function settingsPatch(rows: readonly Row[]): { patch: CreditSettingsPatch; errors: Record<string, string> } {
  const lowBalance: Record<string, number | null> = {};
  const errors: Record<string, string> = {};
  for (const row of rows) {
    if (row.useDefault) {
      if (!row.saved.isDefault) lowBalance[row.type] = null;
      continue;
    }
    const parsed = parseThreshold(row.text);
    if ("error" in parsed) errors[row.type] = parsed.error;
    else if (row.saved.isDefault || parsed.value !== row.saved.threshold) lowBalance[row.type] = parsed.value;
  }
  const patch: CreditSettingsPatch = Object.keys(lowBalance).length > 0 ? { lowBalance } : {};
  return { patch, errors };
}

/** The API's words for a field, for people ("Input should be less than or equal to 10000000" → "…at most 10,000,000…"). */
export function fieldMessage(message: string): string {
  const most = /less than or equal to (\d+)/.exec(message);
  if (most) return `Enter at most ${count(Number(most[1]))} credits.`;
  const least = /greater than or equal to (\d+)/.exec(message);
  if (least) return `Enter ${count(Number(least[1]))} or more credits.`;
  if (/valid integer/i.test(message)) return "Enter a whole number of credits.";
  const text = message.trim();
  if (!text) return "This value was not accepted.";
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
}

/**
 * Where a refused save's errors go: an `invalid_argument` naming `lowBalance.<type>` (or a path
 * under it) goes next to that type's field; anything else is said above the form.
 */
export function errorsOf(
  error: unknown,
  types: readonly string[],
): { byType: Record<string, string>; form: string | null } {
  if (!(error instanceof ApiError)) return { byType: {}, form: "Your alerts could not be saved. Try again." };
  const byType: Record<string, string> = {};
  const listed = error.details.errors;
  const fieldErrors = Array.isArray(listed) ? (listed as unknown[]) : [];
  for (const item of fieldErrors) {
    const { field, message } = (item ?? {}) as { field?: unknown; message?: unknown };
    if (typeof field !== "string") continue;
    const [top, type] = field.split(".");
    if (top === "lowBalance" && type && types.includes(type) && !byType[type]) {
      byType[type] = fieldMessage(typeof message === "string" ? message : "");
    }
  }
  if (error.status === 400 && Object.keys(byType).length > 0) return { byType, form: null };
  return { byType, form: error.message ? fieldMessage(error.message) : "Your alerts could not be saved." };
}
