/**
 * The Grant credits dialog. One idempotency key per opened dialog: a double click, a retry
 * after a network error or a second press of Grant sends the same key, so the API writes
 * one entry and answers a replay ("already granted") for the rest.
 */
import { type FormEvent, useRef, useState } from "react";
import { ApiError, type CreditType, adminApi } from "../api/client";
import { Dialog } from "../ui/Dialog";
import { type FieldErrors, type GrantForm, expiresAtOf, grantError, grantOutcome, validateGrant } from "./grant";

type Outcome = { tone: "success" | "error"; text: string } | null;

export function GrantDialog({
  user,
  defaultType,
  onClose,
  onGranted,
}: {
  /** The user of the row it was opened from (fixed), or null for a blank form. */
  user: { uid: string; email: string | null } | null;
  defaultType: CreditType;
  onClose: () => void;
  onGranted: () => void;
}) {
  const [key] = useState(() => `admin-ui:${crypto.randomUUID()}`);
  const [form, setForm] = useState<GrantForm>({
    user: user?.uid ?? "",
    type: defaultType,
    direction: "credit",
    amount: "",
    reason: "",
    expires: "",
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);

  function set<K extends keyof GrantForm>(name: K, value: GrantForm[K]) {
    setForm((f) => ({ ...f, [name]: value }));
    setErrors((e) => ({ ...e, [name]: undefined }));
  }

  async function resolveUid(text: string): Promise<string | null> {
    if (!text.includes("@")) return text;
    const page = await adminApi.ledger({ q: `email:${text}` }, null, 1);
    const uid = page.query.value;
    return page.query.field === "uid" && uid && !/\s/.test(uid) ? uid : null;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (sending.current) return;
    const found = validateGrant(form);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setOutcome({ tone: "error", text: "Not granted: check the fields marked below." });
      return;
    }
    sending.current = true;
    setBusy(true);
    setOutcome(null);
    try {
      const uid = await resolveUid(form.user.trim());
      if (!uid) {
        setErrors({ user: "No user has this email." });
        setOutcome({ tone: "error", text: "Not granted: no user has this email." });
        return;
      }
      const result = await adminApi.adjust({
        uid,
        type: form.type,
        direction: form.direction,
        amount: Number(form.amount),
        reason: form.reason.trim(),
        idempotencyKey: key,
        expiresAt: expiresAtOf(form),
      });
      setOutcome({ tone: "success", text: grantOutcome(result) });
      onGranted();
    } catch (error) {
      if (error instanceof ApiError) {
        const { message, fields } = grantError(error);
        setErrors(fields);
        setOutcome({ tone: "error", text: message });
      } else {
        setOutcome({ tone: "error", text: "Not granted: the server could not be reached. Try again." });
      }
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  const fixed = user !== null;
  return (
    <Dialog label="Grant credits" onClose={onClose}>
      <form className="grant-form" onSubmit={submit} noValidate>
        <GrantField
          name="user"
          label="User"
          error={errors.user}
          hint={fixed ? (user.email ?? undefined) : "uid or email"}
        >
          {(props) => (
            <input
              {...props}
              type="text"
              value={form.user}
              readOnly={fixed}
              onChange={(e) => set("user", e.target.value)}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </GrantField>
        <div className="grant-row">
          <GrantField name="type" label="Type" error={errors.type}>
            {(props) => (
              <select {...props} value={form.type} onChange={(e) => set("type", e.target.value as CreditType)}>
                <option value="image">Image</option>
                <option value="video">Video</option>
              </select>
            )}
          </GrantField>
          <GrantField name="direction" label="Direction" error={errors.direction}>
            {(props) => (
              <select
                {...props}
                value={form.direction}
                onChange={(e) => set("direction", e.target.value === "debit" ? "debit" : "credit")}
              >
                <option value="credit">Credit (add)</option>
                <option value="debit">Debit (take back)</option>
              </select>
            )}
          </GrantField>
          <GrantField name="amount" label="Amount" error={errors.amount}>
            {(props) => (
              <input
                {...props}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                value={form.amount}
                onChange={(e) => set("amount", e.target.value)}
              />
            )}
          </GrantField>
        </div>
        <GrantField name="reason" label="Reason" error={errors.reason} hint="Shown to the user in their Activity">
          {(props) => (
            <textarea
              {...props}
              rows={2}
              maxLength={500}
              required
              value={form.reason}
              onChange={(e) => set("reason", e.target.value)}
            />
          )}
        </GrantField>
        {form.direction === "credit" && (
          <GrantField
            name="expires"
            label="Expires after (optional)"
            error={errors.expires}
            hint="The last day (UTC) the credits can be spent; leave empty for credits that never expire"
          >
            {(props) => (
              <input {...props} type="date" value={form.expires} onChange={(e) => set("expires", e.target.value)} />
            )}
          </GrantField>
        )}
        <div className="grant-outcome" role="status">
          {outcome && <p className={`notice notice-${outcome.tone}`}>{outcome.text}</p>}
        </div>
        <div className="grant-actions">
          <button type="button" className="button" onClick={onClose}>
            {outcome?.tone === "success" ? "Done" : "Cancel"}
          </button>
          <button type="submit" className="button button-primary" aria-disabled={busy}>
            {busy ? "Granting…" : "Grant"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

interface ControlProps {
  id: string;
  name: string;
  "aria-invalid": boolean;
  "aria-describedby": string | undefined;
}

function GrantField({
  name,
  label,
  error,
  hint,
  children,
}: {
  name: keyof GrantForm;
  label: string;
  error?: string;
  hint?: string;
  children: (props: ControlProps) => React.ReactNode;
}) {
  const id = `grant-${name}`;
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, "aria-invalid": Boolean(error), "aria-describedby": described || undefined })}
      {hint && (
        <span id={`${id}-hint`} className="field-hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={`${id}-error`} className="error-text">
          {error}
        </span>
      )}
    </div>
  );
}
