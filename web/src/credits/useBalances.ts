/**
 * The user's balances, live: a Firestore listener on `users/{uid}/balances/current`, read
 * under the security rules (only its owner may). A purchase, a job or an admin grant made
 * anywhere changes the numbers on screen without a reload. The document holds `amounts`,
 * one integer per credit type (`./balances`).
 */
import { useEffect, useState } from "react";
import { watchDocument } from "../firebase";
import { amountsOf } from "./balances";

export interface LiveBalances {
  status: "loading" | "ready" | "error";
  /** Credits per type; a type the user never had is absent. */
  amounts: Record<string, number>;
}

export function useBalances(uid: string): LiveBalances {
  const [state, setState] = useState<LiveBalances & { uid: string }>({ uid, status: "loading", amounts: {} });
  useEffect(
    () =>
      watchDocument(
        ["users", uid, "balances", "current"],
        (data) => setState({ uid, status: "ready", amounts: amountsOf(data) }),
        () => setState((s) => ({ ...s, uid, status: "error" })),
      ),
    [uid],
  );
  return state.uid === uid ? state : { status: "loading", amounts: {} };
}
