/**
 * The user's balances, live: a Firestore listener on `users/{uid}/balances/current`, read
 * under the security rules (only its owner may). A purchase, a job or an admin grant made
 * anywhere changes the numbers on screen without a reload. The document holds `amounts`,
 * one integer per credit type (`./balances`), and the open credit blocks (`./blocks`).
 */
import { useEffect, useState } from "react";
import { watchDocument } from "../firebase";
import { amountsOf } from "./balances";
import { type Expiring, expiringNext } from "./blocks";

export interface LiveBalances {
  status: "loading" | "ready" | "error";
  /** Credits per type; a type the user never had is absent. */
  amounts: Record<string, number>;
  /** Per type, the credits that expire next and when; a type with none expiring is absent. */
  expiring: Record<string, Expiring>;
}

export function useBalances(uid: string): LiveBalances {
  const [state, setState] = useState<LiveBalances & { uid: string }>({
    uid,
    status: "loading",
    amounts: {},
    expiring: {},
  });
  useEffect(
    () =>
      watchDocument(
        ["users", uid, "balances", "current"],
        (data) =>
          setState({ uid, status: "ready", amounts: amountsOf(data), expiring: expiringNext(data, new Date()) }),
        () => setState((s) => ({ ...s, uid, status: "error" })),
      ),
    [uid],
  );
  return state.uid === uid ? state : { status: "loading", amounts: {}, expiring: {} };
}
