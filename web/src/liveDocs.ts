/**
 * Live reads of Firestore documents, in a chunk of their own: only the balance cards use
 * Firestore, so the first page's script does not carry it. Loaded through `watchDocument`
 * in ./firebase, which owns the wiring.
 */
import { connectFirestoreEmulator, doc, getFirestore, onSnapshot } from "firebase/firestore";
import type { FirebaseApp } from "firebase/app";

let connected = false;

export function watch(
  app: FirebaseApp,
  emulator: string | undefined,
  path: string[],
  next: (data: Record<string, unknown> | undefined) => void,
  error: () => void,
): () => void {
  const db = getFirestore(app);
  if (emulator && !connected) {
    const [host, port] = emulator.split(":");
    connectFirestoreEmulator(db, host ?? "127.0.0.1", Number(port));
    connected = true;
  }
  const [first = "", ...rest] = path;
  return onSnapshot(doc(db, first, ...rest), (snap) => next(snap.data()), error);
}
