/** Grant credits: the form's checks and the outcome of a request, in words. */
import { ApiError, type Adjusted } from "../api/client";
import { count } from "../format";

export interface GrantForm {
  user: string;
  type: "image" | "video";
  direction: "credit" | "debit";
  amount: string;
  reason: string;
  /** Optional: the last day (UTC, YYYY-MM-DD) the granted credits can be spent. */
  expires: string;
}

export type FieldErrors = Partial<Record<keyof GrantForm, string>>;

/** Checks before anything is sent (the API checks the same again). */
export function validateGrant(form: GrantForm, today: Date = new Date()): FieldErrors {
  const errors: FieldErrors = {};
  if (!form.user.trim()) errors.user = "Enter a uid or an email.";
  else if (/[/\s]/.test(form.user.trim())) errors.user = "A uid or an email has no spaces or slashes.";
  const amount = Number(form.amount);
  if (!/^\d+$/.test(form.amount.trim()) || amount < 1 || amount > 10_000_000)
    errors.amount = "Enter a whole number from 1 to 10,000,000.";
  if (!form.reason.trim()) errors.reason = "A reason is required.";
  else if (form.reason.trim().length > 500) errors.reason = "At most 500 characters.";
  if (form.expires) {
    if (form.direction !== "credit") errors.expires = "Only granted credits can expire.";
    else if (!/^\d{4}-\d{2}-\d{2}$/.test(form.expires) || form.expires < today.toISOString().slice(0, 10))
      errors.expires = "Choose today or a later day.";
  }
  return errors;
}

/** The API's `expiresAt` of a form: the end of its last day (UTC), or null when it never expires. */
export function expiresAtOf(form: GrantForm): string | null {
  if (!form.expires || form.direction !== "credit") return null;
  const end = new Date(`${form.expires}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return end.toISOString();
}

export function grantOutcome(result: Adjusted): string {
  const e = result.entry;
  const what = `${e.direction === "credit" ? "+" : "−"}${count(e.amount)} ${e.type} credits for ${e.uid}`;
  return result.replayed
    ? `Already granted: ${what} (this request was made before; nothing new was written). Balance after: ${count(e.balance_after)}.`
    : `Granted: ${what}. Balance after: ${count(e.balance_after)}.`;
}

const FIELD_NAMES: Record<string, keyof GrantForm> = {
  uid: "user",
  type: "type",
  direction: "direction",
  amount: "amount",
  reason: "reason",
  expiresAt: "expires",
};

/** An API error as a message and, for validation errors, the fields it names. */
export function grantError(error: ApiError): { message: string; fields: FieldErrors } {
  const d = error.details;
  if (error.code === "insufficient_credits") {
    const attempted = typeof d.attempted === "number" ? count(d.attempted) : "?";
    const balance = typeof d.balance === "number" ? count(d.balance) : "?";
    const type = typeof d.type === "string" ? `${d.type} ` : "";
    return {
      message: `Refused: a debit of ${attempted} ${type}credits is more than the balance of ${balance}. Nothing was written.`,
      fields: {},
    };
  }
  if (error.code === "invalid_argument") {
    const fields: FieldErrors = {};
    const list = Array.isArray(d.errors) ? (d.errors as { field?: string; message?: string }[]) : [];
    for (const item of list) {
      const field = FIELD_NAMES[String(item.field ?? "")];
      if (field) fields[field] = item.message ?? "Not valid.";
    }
    const named = typeof d.field === "string" ? FIELD_NAMES[d.field] : undefined;
    if (named) fields[named] = error.message;
    return { message: `Not granted: ${error.message}`, fields };
  }
  return { message: `Not granted: ${error.message}`, fields: {} };
}
