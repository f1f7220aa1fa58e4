/**
 * The user's low-balance alerts, one threshold per credit type (`GET`/`PATCH
 * /api/credits/settings`): each field shows the value in force and says whether it is the
 * default, "Use default" goes back to it, 0 turns the type's alert off. A refused value is
 * said next to its field. Self-contained (it loads and saves its own settings), so that other
 * settings of the Top up page can sit beside it.
 */
import { type FormEvent, useEffect, useId, useState } from "react";
import { ApiError, type CreditSettings, api } from "../api/client";
import { creditTypeLabel } from "../format";
import { Notice, Spinner } from "../ui/bits";
import { type Row, errorsOf, rowHint, rowsFrom, settingsPatch } from "./thresholds";
import { refreshCreditAlerts } from "./useCreditAlerts";

type Outcome = { kind: "idle" } | { kind: "saving" } | { kind: "saved" } | { kind: "unchanged" };

export function LowBalanceAlertsForm() {
  const heading = useId();
  const [settings, setSettings] = useState<CreditSettings | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });

  useEffect(() => {
    let live = true;
    api.settings().then(
      (loaded) => {
        if (!live) return;
        setSettings(loaded);
        setRows(rowsFrom(loaded));
      },
      (e: unknown) => live && setLoadError(e instanceof ApiError ? e.message : "Your alerts could not be loaded."),
    );
    return () => {
      live = false;
    };
  }, []);

  function change(type: string, next: Partial<Row>) {
    setRows((current) => current.map((row) => (row.type === type ? { ...row, ...next } : row)));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([name]) => name !== type)));
    setOutcome({ kind: "idle" });
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    const { patch, errors: invalid } = settingsPatch(rows);
    setErrors(invalid);
    setFormError(null);
    if (Object.keys(invalid).length > 0) {
      focusField(Object.keys(invalid)[0]);
      setOutcome({ kind: "idle" });
      return;
    }
    if (!patch.lowBalance) {
      setOutcome({ kind: "unchanged" });
      return;
    }
    setOutcome({ kind: "saving" });
    try {
      const updated = await api.updateSettings(patch);
      setSettings(updated);
      setRows(rowsFrom(updated));
      setOutcome({ kind: "saved" });
      refreshCreditAlerts();
    } catch (e) {
      const found = errorsOf(
        e,
        rows.map((row) => row.type),
      );
      setErrors(found.byType);
      setFormError(found.form);
      setOutcome({ kind: "idle" });
      focusField(Object.keys(found.byType)[0]);
    }
  }

  function focusField(type: string | undefined) {
    if (type) document.getElementById(`${heading}-${type}`)?.focus();
  }

  return (
    <section className="panel alert-settings" aria-labelledby={heading}>
      <h2 id={heading}>Low-balance alerts</h2>
      <p className="alert-settings-intro">
        When a balance falls below its alert, a banner on Credits usage and Activity offers Top up until the balance is
        back. 0 turns a type&rsquo;s alert off.
        {settings && (
          <>
            {" "}
            Credits that expire within {settings.expiringSoonDays} day{settings.expiringSoonDays === 1 ? "" : "s"} are
            announced there too.
          </>
        )}
      </p>
      {loadError && <Notice tone="error">{loadError}</Notice>}
      {!settings && !loadError && (
        <div className="alert-settings-loading">
          <Spinner label="Loading your alerts" />
        </div>
      )}
      {settings && (
        <form className="alert-settings-form" noValidate onSubmit={save} aria-labelledby={heading}>
          {formError && <Notice tone="error">{formError}</Notice>}
          {rows.map((row) => {
            const id = `${heading}-${row.type}`;
            const error = errors[row.type];
            const label = `${creditTypeLabel(row.type)} credits`;
            return (
              <div className="threshold-row" key={row.type}>
                <label htmlFor={id}>{label}</label>
                <div className="threshold-control">
                  <span className="threshold-prefix" aria-hidden="true">
                    Alert below
                  </span>
                  <input
                    id={id}
                    type="text"
                    inputMode="numeric"
                    autoComplete="off"
                    value={row.text}
                    onChange={(e) => change(row.type, { text: e.target.value, useDefault: false })}
                    aria-invalid={error ? true : undefined}
                    aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
                  />
                  <span className="threshold-suffix" aria-hidden="true">
                    credits
                  </span>
                </div>
                <div className="threshold-hint">
                  <span id={`${id}-hint`}>{rowHint(row)}</span>
                  {!row.useDefault && (
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Use default for ${row.type} credits`}
                      onClick={() => change(row.type, { text: String(row.default), useDefault: true })}
                    >
                      Use default
                    </button>
                  )}
                </div>
                {error && (
                  <p className="threshold-error" id={`${id}-error`}>
                    {error}
                  </p>
                )}
              </div>
            );
          })}
          <div className="alert-settings-actions">
            <button type="submit" className="button button-primary" disabled={outcome.kind === "saving"}>
              {outcome.kind === "saving" ? "Saving…" : "Save alerts"}
            </button>
            <span className="alert-settings-status" role="status">
              {outcome.kind === "saved" ? "Saved." : outcome.kind === "unchanged" ? "Nothing to save: no changes." : ""}
            </span>
          </div>
        </form>
      )}
    </section>
  );
}
