/**
 * A modal dialog after the WAI-ARIA dialog pattern: focus moves into it when it opens and
 * stays inside while Tab cycles, Esc closes it, the page behind is inert, and focus goes
 * back where the caller says (by default to the element that had it before) when it closes.
 */
import { type ReactNode, useEffect, useRef } from "react";
import { createPortal } from "react-dom";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface DialogProps {
  /** The dialog's accessible name. */
  label: string;
  /** Its visible heading (defaults to the label). */
  title?: ReactNode;
  onClose: () => void;
  /** Where focus goes after closing; defaults to what had focus before the dialog opened. */
  returnFocus?: () => HTMLElement | null | undefined;
  /** "drawer" slides in from the side (full screen on phones); "center" is a centred box. */
  variant?: "drawer" | "center";
  children: ReactNode;
}

export function Dialog({ label, title, onClose, returnFocus, variant = "center", children }: DialogProps) {
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  const giveBack = useRef(returnFocus);
  useEffect(() => {
    close.current = onClose;
    giveBack.current = returnFocus;
  });

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = document.getElementById("root");
    root?.setAttribute("inert", "");
    const first = panel.current?.querySelector<HTMLElement>("[data-autofocus]") ?? panel.current;
    first?.focus();
    return () => {
      root?.removeAttribute("inert");
      const target = giveBack.current?.() ?? opener;
      // After the re-render that removed the dialog, so the target is focusable again.
      requestAnimationFrame(() => target?.focus());
    };
  }, []);

  function onKeyDown(event: React.KeyboardEvent<HTMLDivElement>) {
    if (event.key === "Escape") {
      event.stopPropagation();
      close.current();
      return;
    }
    if (event.key !== "Tab" || !panel.current) return;
    const focusable = [...panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && (document.activeElement === first || document.activeElement === panel.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return createPortal(
    <div className={`overlay overlay-${variant}`} onMouseDown={(e) => e.target === e.currentTarget && close.current()}>
      <div
        ref={panel}
        className={`dialog dialog-${variant}`}
        role="dialog"
        aria-modal="true"
        aria-label={label}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="dialog-header">
          <h2>{title ?? label}</h2>
          <button type="button" className="icon-button" onClick={() => close.current()} data-autofocus>
            <span aria-hidden="true">✕</span>
            <span className="sr-only">Close</span>
          </button>
        </header>
        <div className="dialog-body">{children}</div>
      </div>
    </div>,
    document.body,
  );
}
