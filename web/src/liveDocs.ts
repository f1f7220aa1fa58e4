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

/** Calls `changed` whenever one of the `count` newest documents (by `time`) of a collection is written. */
export function watchNewest(
  app: FirebaseApp,
  emulator: string | undefined,
  path: string[],
  count: number,
  changed: () => void,
  error: () => void,
): () => void {
  const [first = "", ...rest] = path;
  const newest = query(collection(firestore(app, emulator), first, ...rest), orderBy("time", "desc"), limit(count));
  let initial = true;
  return onSnapshot(
    newest,
    () => {
      // The first snapshot is what the page loaded already; only later ones are news.
      if (initial) initial = false;
      else changed();
    },
    error,
  );
}

/**
 * Calls `changed` with every snapshot (the first included) of the newest document (by
 * `orderField`) of a collection among those whose fields equal `equals`.
 */
export function watchLatest(
  app: FirebaseApp,
  emulator: string | undefined,
  path: string[],
  equals: [string, string][],
  orderField: string,
  changed: () => void,
  error: () => void,
): () => void {
  const [first = "", ...rest] = path;
  const latest = query(
    collection(firestore(app, emulator), first, ...rest),
    ...equals.map(([field, value]) => where(field, "==", value)),
    orderBy(orderField, "desc"),
    limit(1),
  );
  return onSnapshot(latest, () => changed(), error);
}
