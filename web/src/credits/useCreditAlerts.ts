/**
 * The user's credit alerts that hold now (`GET /api/credits/alerts`), asked again whenever
 * their cause may have changed, so that the banner appears and clears without a reload:
 *
 * - the balance document `users/{uid}/balances/current` changes (a debit, a purchase, a grant,
 *   an expiration): a credit that brings a balance back clears its alert;
 * - a newer low-balance alert of a credit type is written (`credit_alerts`, the newest by
 *   `crossedAt` per type, the index the API uses): the ledger's trigger raises it just after the
 *   debit that crossed, so the balance change alone comes too early to see it;
 * - the user's settings document changes (`users/{uid}/credit_settings/current`): a failed
 *   payment turns automatic top-up off there, after the debit that started it;
 * - credits expire or come within the expiring-soon window (a timer from the blocks' expiry);
 * - the tab becomes visible again.
 *
 * Changes are gathered for a moment (`SETTLE_MS`) and asked about once. The last answer per
 * user is kept in memory, so that moving between Credits usage and Activity shows it at once.
 * Firestore stays in its own chunk (`watchDocument`, `watchLatest`); without it (a failed
 * listener) the banner is still asked for once.
 */
import { useEffect, useState } from "react";
import { type ActiveAlerts, api } from "../api/client";
import { watchDocument, watchLatest } from "../firebase";
import { CREDIT_TYPES, nextRefresh } from "./alerts";
import { expiryTimes } from "./blocks";

const SETTLE_MS = 250;
const STALE_MS = 60_000;

const remembered = new Map<string, ActiveAlerts>();
const forgetters = new Set<() => void>();

/** Forget the kept answers and ask again now (the thresholds changed, say). */
export function refreshCreditAlerts(): void {
  remembered.clear();
  forgetters.forEach((ask) => ask());
}

/**
 * The alerts of `uid` that hold now, or null before the first answer. Nothing is asked before
 * `start` (the page's own first data has arrived), so the two requests never compete.
 */
export function useCreditAlerts(uid: string, start: boolean): ActiveAlerts | null {
  const [state, setState] = useState<{ uid: string; alerts: ActiveAlerts | null }>(() => ({
    uid,
    alerts: remembered.get(uid) ?? null,
  }));
  const [started, setStarted] = useState(start);
  if (start && !started) setStarted(true);

  useEffect(() => {
    if (!started) return;
    let live = true;
    let settle: ReturnType<typeof setTimeout> | undefined;
    let refresh: ReturnType<typeof setTimeout> | undefined;
    let expiries: number[] = [];
    let days: number | null = null;
    let asking = false;
    let again = false;
    let askedAt = 0;

    function plan() {
      clearTimeout(refresh);
      const wait = days === null ? null : nextRefresh(expiries, days, Date.now());
      if (wait !== null) refresh = setTimeout(soon, wait);
    }

    async function ask() {
      if (asking) {
        again = true;
        return;
      }
      asking = true;
      askedAt = Date.now();
      try {
        const alerts = await api.alerts();
        if (!live) return;
        remembered.set(uid, alerts);
        days = alerts.expiringSoonDays;
        setState({ uid, alerts });
        plan();
      } catch {
        // Keep what is shown: the next change asks again.
      } finally {
        asking = false;
        if (again && live) {
          again = false;
          void ask();
        }
      }
    }

    function soon() {
      clearTimeout(settle);
      settle = setTimeout(() => void ask(), SETTLE_MS);
    }

    // The settings' first snapshot is what the first answer reads already; later ones are news.
    let settingsSeen = false;
    function settingsChanged() {
      if (settingsSeen) soon();
      settingsSeen = true;
    }

    function visible() {
      if (document.visibilityState === "visible" && Date.now() - askedAt > STALE_MS) soon();
    }

    const stops = [
      watchDocument(
        ["users", uid, "balances", "current"],
        (data) => {
          expiries = expiryTimes(data);
          plan();
          soon();
        },
        soon,
      ),
      watchDocument(["users", uid, "credit_settings", "current"], settingsChanged, () => undefined),
      ...CREDIT_TYPES.map((type) =>
        watchLatest(
          ["credit_alerts"],
          [
            ["uid", uid],
            ["kind", "low_balance"],
            ["type", type],
          ],
          "crossedAt",
          soon,
          soon,
        ),
      ),
    ];
    forgetters.add(soon);
    document.addEventListener("visibilitychange", visible);
    return () => {
      live = false;
      clearTimeout(settle);
      clearTimeout(refresh);
      forgetters.delete(soon);
      document.removeEventListener("visibilitychange", visible);
      stops.forEach((stop) => stop());
    };
  }, [uid, started]);

  return state.uid === uid ? state.alerts : (remembered.get(uid) ?? null);
}
