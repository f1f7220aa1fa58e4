/**
 * The one Firebase module: the app, Auth and (loaded on first use) Firestore, wired to the
 * emulators when the configuration says so, and the signed-in user as a React hook.
 *
 * The app never writes Firestore; it reads the balance document live under the security
 * rules. Everything else goes through the HTTP API with the user's ID token.
 *
 * A returning visitor's page should not wait for Firebase Auth to restore the session (it
 * asks the Auth server about the user before it reports one). So the signed-in user and
 * their current ID token are also kept in this tab's sessionStorage until the token
 * expires: a reload starts as that user at once, API calls use that token until Auth has
 * restored the session, and Auth's answer replaces it (signed out included). The token is
 * the one the SDK already keeps in IndexedDB, next to its refresh token.
 */
import { initializeApp } from "firebase/app";
import {
  type User,
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  onIdTokenChanged,
  signInWithEmailAndPassword,
  signOut as firebaseSignOut,
} from "firebase/auth";
import { useSyncExternalStore } from "react";
import { config } from "./config";

export const app = initializeApp(config.firebase);
// initializeAuth without a popup/redirect resolver: email and password only, a smaller bundle.
export const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
if (config.emulators) {
  connectAuthEmulator(auth, `http://${config.emulators.auth}`, { disableWarnings: true });
}

type LiveDocs = typeof import("./liveDocs");

/**
 * Start a listener once the Firestore chunk has loaded; the returned function stops it, even
 * before it started. A chunk that fails to load is the listener's `error`.
 */
function lazily(start: (live: LiveDocs, emulator: string | undefined) => () => void, error: () => void): () => void {
  let stop: (() => void) | null = null;
  let stopped = false;
  import("./liveDocs").then(
    (live) => {
      if (!stopped) stop = start(live, config.emulators?.firestore);
    },
    () => error(),
  );
  return () => {
    stopped = true;
    stop?.();
  };
}

/**
 * Watch one Firestore document under the security rules: `next` gets its data (undefined
 * when it does not exist) now and after every change. Firestore loads on first use.
 */
export function watchDocument(
  path: string[],
  next: (data: Record<string, unknown> | undefined) => void,
  error: () => void,
): () => void {
  return lazily((live, emulator) => live.watch(app, emulator, path, next, error), error);
}

/** `changed` hears of every write to the `count` newest items (by `time`) of a collection. */
export function watchNewest(path: string[], count: number, changed: () => void, error: () => void): () => void {
  // The first snapshot is what the page loaded already; only later ones are news.
  let initial = true;
  const later = () => {
    if (initial) initial = false;
    else changed();
  };
  return lazily((live, emulator) => live.watchNewest(app, emulator, path, [], "time", count, later, error), error);
}

/**
 * `changed` hears of the newest document (by `orderField`) of a collection whose fields equal
 * `equals`: its first snapshot and every change (a newer one written, say). Rules apply, so the
 * filters must include what the rules ask for (`uid` for the user's own documents).
 */
export function watchLatest(
  path: string[],
  equals: [string, string][],
  orderField: string,
  changed: () => void,
  error: () => void,
): () => void {
  return lazily(
    (live, emulator) => live.watchNewest(app, emulator, path, equals, orderField, 1, changed, error),
    error,
  );
}

export type Session =
  | { status: "loading" }
  | { status: "signedOut" }
  | { status: "signedIn"; uid: string; email: string | null; admin: boolean };

interface Remembered {
  uid: string;
  email: string | null;
  admin: boolean;
  token: string;
  /** When the token expires, in milliseconds since the epoch. */
  expires: number;
}

const REMEMBERED = "credits.session";
const TOKEN_MARGIN_MS = 60_000;

function remembered(): Remembered | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(REMEMBERED) ?? "null") as Remembered | null;
    return value && value.expires - TOKEN_MARGIN_MS > Date.now() ? value : null;
  } catch {
    return null;
  }
}

function remember(value: Remembered | null): void {
  try {
    if (value) sessionStorage.setItem(REMEMBERED, JSON.stringify(value));
    else sessionStorage.removeItem(REMEMBERED);
  } catch {
    // Storage can be unavailable (private modes); the app then waits for Auth as usual.
  }
}

const start = remembered();

/** The remembered session this page load started from (see the module's docstring), or null. */
export function startedAs(): { admin: boolean } | null {
  return start && { admin: start.admin };
}
let session: Session = start
  ? { status: "signedIn", uid: start.uid, email: start.email, admin: start.admin }
  : { status: "loading" };
const listeners = new Set<() => void>();

onIdTokenChanged(auth, async (user) => {
  if (!user) {
    remember(null);
    session = { status: "signedOut" };
  } else {
    const token = await user.getIdTokenResult();
    const next = { status: "signedIn", uid: user.uid, email: user.email, admin: token.claims.admin === true } as const;
    remember({ ...next, token: token.token, expires: Date.parse(token.expirationTime) });
    const unchanged =
      session.status === "signedIn" &&
      session.uid === next.uid &&
      session.email === next.email &&
      session.admin === next.admin;
    if (unchanged) return; // the remembered session was right: nothing to re-render
    session = next;
  }
  listeners.forEach((listener) => listener());
});

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current session; re-renders when the user signs in or out or the token's claims change. */
export function useSession(): Session {
  return useSyncExternalStore(subscribe, () => session);
}

export function signIn(email: string, password: string): Promise<unknown> {
  return signInWithEmailAndPassword(auth, email, password);
}

export function signOut(): Promise<void> {
  return firebaseSignOut(auth);
}

/** The ID token for an API call: Auth's (refreshed when about to expire), or the remembered one until Auth is ready. */
export async function idToken(): Promise<string | null> {
  if (auth.currentUser) return auth.currentUser.getIdToken();
  const early = remembered();
  if (early) return early.token;
  await auth.authStateReady();
  const user = auth.currentUser as User | null; // set by the restore awaited above
  return user ? user.getIdToken() : null;
}
