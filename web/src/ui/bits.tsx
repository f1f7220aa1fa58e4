/** Small shared pieces: times with their UTC twin, copyable ids, notices, skeletons. */
import { type ReactNode, useId, useState } from "react";
import { localDateTime, utcDateTime } from "../format";

/** A local date and time; the UTC time shows on hover and is read by screen readers. */
export function Time({ iso, children }: { iso: string; children?: ReactNode }) {
  const utc = utcDateTime(iso);
  return (
    <time dateTime={iso} title={utc}>
      {children ?? localDateTime(iso)}
      <span className="sr-only"> ({utc})</span>
    </time>
  );
}

/** An id shown in monospace with a button that copies it, for support conversations. */
export function CopyableId({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  }
  return (
    <span className="copyable">
      <code>{value}</code>
      <button type="button" className="link-button" onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}

export function Notice({ tone = "info", children }: { tone?: "info" | "error" | "success"; children: ReactNode }) {
  return (
    <div className={`notice notice-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <span className="spinner" role="status">
      <span className="sr-only">{label}</span>
    </span>
  );
}

/** A labelled form control: the label names only the control (not its options). */
export function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

/** One term and its value in a drawer's description list. */
export function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** "From" and "To" date inputs (YYYY-MM-DD), each bounded by the other. */
export function DateRangeFields({
  from,
  to,
  onChange,
}: {
  from: string | undefined;
  to: string | undefined;
  onChange: (field: "from" | "to", value: string) => void;
}) {
  return (
    <>
      <Field label="From">
        {(id) => (
          <input id={id} type="date" value={from ?? ""} max={to} onChange={(e) => onChange("from", e.target.value)} />
        )}
      </Field>
      <Field label="To">
        {(id) => (
          <input id={id} type="date" value={to ?? ""} min={from} onChange={(e) => onChange("to", e.target.value)} />
        )}
      </Field>
    </>
  );
}
