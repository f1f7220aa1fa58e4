/**
 * Live reads of Firestore documents, in a chunk of their own: only the balance cards, the
 * Activity page's "something new" signal and the credit alerts banner's "ask again" signal use
 * Firestore, so the first page's script does not carry it. Loaded through `watchDocument`,
 * `watchNewest` and `watchLatest` in ./firebase, which own the wiring.
 */
import {
  collection,
  connectFirestoreEmulator,
  doc,
  getFirestore,
  limit,
  onSnapshot,
  orderBy,
  query,
  where,
} from "firebase/firestore";
import type { FirebaseApp } from "firebase/app";

let connected = false;

function firestore(app: FirebaseApp, emulator: string | undefined) {
  const db = getFirestore(app);
  if (emulator && !connected) {
    const [host, port] = emulator.split(":");
    connectFirestoreEmulator(db, host ?? "127.0.0.1", Number(port));
    connected = true;
  }
  return db;
}

export function watch(
  app: FirebaseApp,
  emulator: string | undefined,
  path: string[],
  next: (data: Record<string, unknown> | undefined) => void,
  error: () => void,
): () => void {
  const [first = "", ...rest] = path;
  return onSnapshot(doc(firestore(app, emulator), first, ...rest), (snap) => next(snap.data()), error);
}

/**
 * Calls `changed` with every snapshot (the first included) of the `count` newest documents (by
 * `orderField`) of a collection among those whose fields equal `equals`.
 */
export function watchNewest(
  app: FirebaseApp,
  emulator: string | undefined,
  path: string[],
  equals: [string, string][],
  orderField: string,
  count: number,
  changed: () => void,
  error: () => void,
): () => void {
  const [first = "", ...rest] = path;
  const newest = query(
    collection(firestore(app, emulator), first, ...rest),
    ...equals.map(([field, value]) => where(field, "==", value)),
    orderBy(orderField, "desc"),
    limit(count),
  );
  return onSnapshot(newest, () => changed(), error);
}
