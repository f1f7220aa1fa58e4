/**
 * The user's balances, live: a Firestore listener on `users/{uid}/balances/current`, read
 * under the security rules (only its owner may). A purchase, a job or an admin grant made
 * anywhere changes the numbers on screen without a reload. The document holds one integer
 * per credit type, named by the type (`./balances`), and the open credit blocks (`./blocks`).
 */
import { useEffect, useState } from "react";
import { watchDocument } from "../firebase";
import { amountsOf } from "./balances";
import { type Expiring, expiringNext, nextChange } from "./blocks";

export interface LiveBalances {
  status: "loading" | "ready" | "error";
  /** Credits per type; a type the user never had is absent. */
  amounts: Record<string, number>;
  /** Per type, the credits that expire next and when; a type with none expiring is absent. */
  expiring: Record<string, Expiring>;
}

interface Watched {
  uid: string;
  status: LiveBalances["status"];
  data: Record<string, unknown> | undefined;
}

export function useBalances(uid: string): LiveBalances {
  const [state, setState] = useState<Watched>({ uid, status: "loading", data: undefined });
  const [now, setNow] = useState(() => new Date());
  useEffect(
    () =>
      watchDocument(
        ["users", uid, "balances", "current"],
        (data) => {
          setNow(new Date());
          setState({ uid, status: "ready", data });
        },
        () => setState((s) => ({ ...s, uid, status: "error" })),
      ),
    [uid],
  );
  const expiring = expiringNext(state.data, now);
  // Credits that expire leave "N expire on …" at that moment, not at the next write.
  const wait = nextChange(expiring, now);
  useEffect(() => {
    if (wait === null) return;
    const timer = setTimeout(() => setNow(new Date()), wait);
    return () => clearTimeout(timer);
  }, [wait]);
  if (state.uid !== uid) return { status: "loading", amounts: {}, expiring: {} };
  return { status: state.status, amounts: amountsOf(state.data), expiring };
}
