/**
 * The user's balances, live: a Firestore listener on `users/{uid}/balances/current`, read
 * under the security rules (only its owner may). A purchase, a job or an admin grant made
 * anywhere changes the numbers on screen without a reload.
 */
import { doc, onSnapshot } from "firebase/firestore";
import { useEffect, useState } from "react";
import { db } from "../firebase";

export interface LiveBalances {
  status: "loading" | "ready" | "error";
  image: number;
  video: number;
}

export function useBalances(uid: string): LiveBalances {
  const [state, setState] = useState<LiveBalances & { uid: string }>({ uid, status: "loading", image: 0, video: 0 });
  useEffect(
    () =>
      onSnapshot(
        doc(db, "users", uid, "balances", "current"),
        (snap) => {
          const data = snap.data() ?? {};
          setState({
            uid,
            status: "ready",
            image: typeof data.image === "number" ? data.image : 0,
            video: typeof data.video === "number" ? data.video : 0,
          });
        },
        () => setState((s) => ({ ...s, uid, status: "error" })),
      ),
    [uid],
  );
  return state.uid === uid ? state : { status: "loading", image: 0, video: 0 };
}
