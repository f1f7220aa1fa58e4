/**
 * The credit alerts banner of Credits usage and Activity: a line per credit type whose balance
 * is low (with Top up), a line when a failed payment turned automatic top-up off (with Top up,
 * where it is turned on again), and a line per credit type whose credits expire soon. It
 * follows the API's answer of what holds now (`useCreditAlerts`), so it clears by itself when a purchase or a
 * grant brings the balance back, or the expiring credits are spent.
 *
 * It lives in the page's heading and arrives late (after the page's first data and the live
 * balance), so it must move nothing when it appears: on wide screens it sits beside the title
 * in room the heading keeps for it; on narrow ones it is a bar fixed to the bottom of the
 * window, with as much room added after the page's content (docs/web.md, "Credit alerts").
 * The live region is always there (empty when nothing holds), so screen readers hear the
 * banner when it appears.
 */
import { Fragment, useEffect, useRef, useState } from "react";
import { utcDateTime } from "../format";
import { Link } from "../router";
import { type BannerLine, bannerLines, isDismissed, offersTopUp, shownIds } from "./alerts";
import { useCreditAlerts } from "./useCreditAlerts";

const DISMISSED = "credits.alerts.dismissed";

function readDismissed(uid: string): string[] {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(`${DISMISSED}.${uid}`) ?? "[]");
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function writeDismissed(uid: string, ids: string[]): void {
  try {
    sessionStorage.setItem(`${DISMISSED}.${uid}`, JSON.stringify(ids));
  } catch {
    // Storage can be unavailable (private modes): dismissing then lasts until the page is left.
  }
}

export function CreditAlertsBanner({ uid, start }: { uid: string; start: boolean }) {
  const alerts = useCreditAlerts(uid, start);
  const [dismissed, setDismissed] = useState<{ uid: string; ids: string[] }>(() => ({
    uid,
    ids: readDismissed(uid),
  }));
  const ids = dismissed.uid === uid ? dismissed.ids : readDismissed(uid);
  const lines = alerts ? bannerLines(alerts, new Date()) : [];
  const shown = lines.length > 0 && !isDismissed(lines, ids);
  const box = useRef<HTMLDivElement>(null);

  // On narrow screens the banner is fixed to the bottom of the window: the page keeps as much
  // room after its content (a CSS variable read by `.main`), so nothing stays hidden under it.
  useEffect(() => {
    const node = box.current;
    const root = document.documentElement;
    if (!node || !shown || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() =>
      root.style.setProperty("--credit-alerts-height", `${node.offsetHeight}px`),
    );
    observer.observe(node);
    return () => {
      observer.disconnect();
      root.style.removeProperty("--credit-alerts-height");
    };
  }, [shown]);

  function dismiss() {
    const next = [...new Set([...ids, ...shownIds(lines)])];
    writeDismissed(uid, next);
    setDismissed({ uid, ids: next });
    // The button goes away with the banner: focus goes to the page's title, not to the document.
    const title = box.current?.closest(".page-heading")?.querySelector<HTMLElement>("h1");
    if (title) {
      if (!title.hasAttribute("tabindex")) title.tabIndex = -1;
      title.focus();
    }
  }

  return (
    <div className="credit-alerts-slot">
      <div
        ref={box}
        className={shown ? "credit-alerts credit-alerts-shown" : "credit-alerts"}
        role="status"
        aria-label="Credit alerts"
      >
        {shown && (
          <>
            <ul className="credit-alerts-lines">
              {lines.map((line) => (
                <li key={line.key} className={`credit-alert credit-alert-${line.kind}`}>
                  {line.kind !== "expiring_soon" ? (
                    <span className="credit-alert-icon" aria-hidden="true">
                      !
                    </span>
                  ) : (
                    <ClockIcon />
                  )}
                  <span className="credit-alert-text">
                    <LineText line={line} />
                  </span>
                </li>
              ))}
            </ul>
            <div className="credit-alerts-actions">
              {offersTopUp(lines) && (
                <Link href="/top-up" className="button button-primary button-small">
                  Top up
                </Link>
              )}
              <button type="button" className="icon-button credit-alerts-dismiss" onClick={dismiss}>
                <span aria-hidden="true">×</span>
                <span className="sr-only">Dismiss credit alerts</span>
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}

function LineText({ line }: { line: BannerLine }) {
  return (
    <>
      {line.parts.map((part, i) =>
        typeof part === "string" ? (
          <Fragment key={i}>{part}</Fragment>
        ) : (
          <time key={i} dateTime={part.iso} title={utcDateTime(part.iso)}>
            {part.text}
          </time>
        ),
      )}
    </>
  );
}

/** A small clock, drawn (an emoji clock is missing from some systems' fonts). */
function ClockIcon() {
  return (
    <svg className="credit-alert-icon credit-alert-clock" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M8 4.5V8l2.5 1.6" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}
