/**
 * Automatic top-up on the Top up page (docs/alerts.md, "Automatic top-up"; docs/web.md): whether
 * it is on and what it does, this month's charges under the cap, the saved card, and a form to
 * choose the pack, the threshold and the monthly cap, with Turn on, Save and Turn off. When a
 * failed payment turned it off, it says why and offers to turn it on again; when the month's
 * cap stopped a top-up, it says so.
 *
 * Self-contained beside the low-balance alerts form: it loads and saves its own settings, and
 * asks again when the system writes to them (a top-up decided, failed or capped:
 * `users/{uid}/credit_settings/current`) or the balance changes (a top-up credited), so the page
 * follows an automatic top-up while it is open. A form the user is editing is left as typed.
 */
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { type CreditSettings, type Pack, api } from "../api/client";
import { watchDocument } from "../firebase";
import { Spinner } from "../ui/bits";
import {
  type Draft,
  type Field,
  type FieldErrors,
  capHint,
  cardText,
  changes,
  checkDraft,
  draftFrom,
  monthText,
  packOf,
  refusalOf,
  sectionNotice,
  summaryText,
} from "./autoTopUp";
import { currencySymbol, formatMoney } from "./money";

type Outcome = "idle" | "saving" | "turningOff" | "on" | "saved" | "off" | "unchanged";

const STATUS: Record<Outcome, string> = {
  idle: "",
  saving: "",
  turningOff: "",
  on: "Automatic top-up is on.",
  saved: "Saved.",
  off: "Automatic top-up is off.",
  unchanged: "Nothing to save: no changes.",
};

const SETTLE_MS = 400;

/**
 * `onSettled` is called once the first answer (or its failure) is shown: the page mounts what
 * comes after this section only then, so that this section's growth moves nothing below it.
 */
export function AutoTopUpSection({
  uid,
  packs,
  onSettled,
}: {
  uid: string;
  packs: readonly Pack[];
  onSettled?: () => void;
}) {
  const id = useId();
  const heading = `${id}-heading`;
  const [settings, setSettings] = useState<CreditSettings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const dirty = useRef(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>("idle");
  const shown = settings !== null || loadError !== null;
  useEffect(() => {
    if (shown) onSettled?.();
  }, [shown, onSettled]);

  // The settings, and again whenever the system writes to them or the balance moves.
  useEffect(() => {
    let live = true;
    let settle: ReturnType<typeof setTimeout> | undefined;
    function take(loaded: CreditSettings) {
      if (!live) return;
      setSettings(loaded);
      if (!dirty.current) setDraft(draftFrom(loaded.autoTopUp, packs, alertAt(loaded)));
    }
    api.settings().then(take, () => live && setLoadError("Automatic top-up could not be loaded. Reload to try again."));
    const again = () => {
      clearTimeout(settle);
      settle = setTimeout(() => {
        api.settings().then(
          (loaded) => {
            take(loaded);
            // News (a top-up made, failed or capped): "Automatic top-up is on." of an earlier
            // click would now contradict what the section shows.
            if (live) setOutcome((current) => (current === "saving" || current === "turningOff" ? current : "idle"));
          },
          () => undefined,
        );
      }, SETTLE_MS);
    };
    // Each listener's first snapshot is what was just loaded; the later ones are news.
    const listen = (path: string[]) => {
      let first = true;
      return watchDocument(
        path,
        () => {
          if (first) first = false;
          else again();
        },
        () => undefined,
      );
    };
    const stops = [listen(["users", uid, "credit_settings", "current"]), listen(["users", uid, "balances", "current"])];
    return () => {
      live = false;
      clearTimeout(settle);
      stops.forEach((stop) => stop());
    };
  }, [packs, uid]);

  const auto = settings?.autoTopUp ?? null;
  const busy = outcome === "saving" || outcome === "turningOff";

  function edit(next: Partial<Draft>, field: Field) {
    dirty.current = true;
    setDraft((current) => (current ? { ...current, ...next } : current));
    setErrors((current) => ({ ...current, [field]: undefined }));
    setFormError(null);
    setOutcome("idle");
  }

  function focusField(field: Field | undefined) {
    if (field) document.getElementById(`${id}-${field}`)?.focus();
  }

  async function send(change: () => Promise<CreditSettings>, done: Outcome, pending: Outcome) {
    setOutcome(pending);
    setFormError(null);
    try {
      const updated = await change();
      dirty.current = false;
      setSettings(updated);
      setDraft(draftFrom(updated.autoTopUp, packs, alertAt(updated)));
      setErrors({});
      setOutcome(done);
    } catch (e) {
      const refusal = refusalOf(e, packOf(draft?.pack, packs));
      setErrors(refusal.fields);
      setFormError(refusal.form);
      setOutcome("idle");
      focusField((Object.keys(refusal.fields) as Field[])[0]);
    }
  }

  function save(event: FormEvent) {
    event.preventDefault();
    if (!draft || !auto) return;
    const checked = checkDraft(draft, packs);
    if ("errors" in checked) {
      setErrors(checked.errors);
      setFormError(null);
      setOutcome("idle");
      focusField((["pack", "threshold", "monthlyCap"] as const).find((f) => checked.errors[f]));
      return;
    }
    setErrors({});
    if (auto.enabled && !changes(checked.patch, auto)) {
      setOutcome("unchanged");
      return;
    }
    void send(() => api.updateSettings({ autoTopUp: checked.patch }), auto.enabled ? "saved" : "on", "saving");
  }

  function turnOff() {
    void send(() => api.updateSettings({ autoTopUp: { enabled: false } }), "off", "turningOff");
  }

  /** A text box of the draft's `key` (a number as typed), whose refusals belong to `field`. */
  function textInput(key: "threshold" | "cap", field: Field, inputMode: "numeric" | "decimal") {
    return (props: ControlProps) => (
      <input
        {...props}
        type="text"
        inputMode={inputMode}
        autoComplete="off"
        value={draft?.[key] ?? ""}
        onChange={(e) => edit({ [key]: e.target.value }, field)}
      />
    );
  }

  const pack = draft ? packOf(draft.pack, packs) : undefined;
  const notice = auto ? sectionNotice(auto, new Date()) : null;

  return (
    <section className="panel auto-top-up" aria-labelledby={heading} aria-busy={!settings && !loadError}>
      <div className="auto-top-up-head">
        <h2 id={heading}>Automatic top-up</h2>
        <StatePill on={auto?.enabled ?? null} />
      </div>
      <p className="section-intro">
        When a balance falls below your threshold, the pack you choose is bought with your saved card: never more than
        your monthly cap in a calendar month (UTC).
      </p>
      {loadError && (
        <p className="auto-top-up-error" role="alert">
          {loadError}
        </p>
      )}
      {!auto && !loadError && (
        <div className="auto-top-up-loading">
          <Spinner label="Loading automatic top-up" />
        </div>
      )}
      {auto && draft && (
        <>
          {notice && (
            <div
              className={`auto-notice auto-notice-${notice.tone}`}
              role={notice.tone === "error" ? "alert" : "status"}
              aria-labelledby={`${id}-notice`}
            >
              <NoticeIcon tone={notice.tone} />
              <div>
                <p className="auto-notice-title" id={`${id}-notice`}>
                  {notice.title}
                </p>
                <p className="auto-notice-text">{notice.text}</p>
              </div>
            </div>
          )}
          <dl className="auto-facts">
            <Fact term="Now">
              {auto.enabled ? (summaryText(auto) ?? "On.") : "Off: nothing is bought automatically."}
            </Fact>
            {auto.month && auto.monthlyCap !== null && <Fact term="This month">{monthText(auto)}</Fact>}
            <Fact term="Card">
              <span className={auto.paymentMethod.saved ? undefined : "auto-no-card"}>
                {cardText(auto.paymentMethod)}
              </span>
            </Fact>
          </dl>
          <form className="auto-top-up-form" noValidate onSubmit={save} aria-labelledby={heading}>
            <div className="auto-fields">
              <FormField id={`${id}-pack`} label="Pack" error={errors.pack} hint="One pack is bought at each top-up.">
                {(props) => (
                  <select {...props} value={draft.pack} onChange={(e) => edit({ pack: e.target.value }, "pack")}>
                    {packs.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.name} · {formatMoney(p.unitAmount, p.currency)}
                      </option>
                    ))}
                  </select>
                )}
              </FormField>
              <FormField
                id={`${id}-threshold`}
                label="Threshold"
                error={errors.threshold}
                hint={`Top up when your ${pack?.creditType ?? ""} credits fall below this.`}
                prefix="Below"
                suffix={`${pack?.creditType ?? ""} credits`}
              >
                {textInput("threshold", "threshold", "numeric")}
              </FormField>
              <FormField
                id={`${id}-monthlyCap`}
                label="Monthly cap"
                error={errors.monthlyCap}
                hint={capHint(draft, packs)}
                prefix={pack ? currencySymbol(pack.currency) : ""}
                suffix={pack ? `${pack.currency.toUpperCase()} a month` : ""}
              >
                {textInput("cap", "monthlyCap", "decimal")}
              </FormField>
            </div>
            {formError && (
              <p className="auto-top-up-error" role="alert">
                {formError}
              </p>
            )}
            <div className="auto-top-up-actions">
              {auto.enabled ? (
                <>
                  <button type="submit" className="button button-primary" disabled={busy}>
                    {outcome === "saving" ? "Saving…" : "Save"}
                  </button>
                  <button type="button" className="button" onClick={turnOff} disabled={busy}>
                    {outcome === "turningOff" ? "Turning off…" : "Turn off"}
                  </button>
                </>
              ) : (
                <button type="submit" className="button button-primary" disabled={busy}>
                  {outcome === "saving" ? "Turning on…" : auto.turnedOff ? "Turn on again" : "Turn on"}
                </button>
              )}
              <span className="auto-top-up-status" role="status">
                {STATUS[outcome]}
              </span>
            </div>
          </form>
        </>
      )}
    </section>
  );
}

/** The type's low-balance alert, the first threshold offered (the warning and the refill together). */
function alertAt(settings: CreditSettings): (type: string) => number | undefined {
  return (type) => settings.lowBalance[type as keyof CreditSettings["lowBalance"]]?.threshold;
}

/** On or Off, in words beside the dot; before the first answer it keeps its room, unseen. */
function StatePill({ on }: { on: boolean | null }) {
  return (
    <span className={on ? "state-pill state-pill-on" : on === null ? "state-pill state-pill-unknown" : "state-pill"}>
      <span className="state-pill-dot" aria-hidden="true" />
      {on ? "On" : "Off"}
    </span>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="auto-fact">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

interface ControlProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string;
}

function FormField({
  id,
  label,
  hint,
  error,
  prefix,
  suffix,
  children,
}: {
  id: string;
  label: string;
  hint: string;
  error: string | undefined;
  prefix?: string;
  suffix?: string;
  children: (props: ControlProps) => ReactNode;
}) {
  const props: ControlProps = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": `${id}-hint${error ? ` ${id}-error` : ""}`,
  };
  return (
    <div className="auto-field">
      <label htmlFor={id}>{label}</label>
      <div className="auto-control">
        {prefix && (
          <span className="auto-affix" aria-hidden="true">
            {prefix}
          </span>
        )}
        {children(props)}
        {suffix && (
          <span className="auto-affix" aria-hidden="true">
            {suffix}
          </span>
        )}
      </div>
      <p className="auto-hint" id={`${id}-hint`}>
        {hint}
      </p>
      {error && (
        <p className="auto-field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

function NoticeIcon({ tone }: { tone: "error" | "warning" | "info" }) {
  return (
    <span className={`auto-notice-icon auto-notice-icon-${tone}`} aria-hidden="true">
      {tone === "info" ? "i" : "!"}
    </span>
  );
}
