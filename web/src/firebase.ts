/**
 * The one Firebase module: the app, Auth and Firestore, wired to the emulators when the
 * configuration says so, and the signed-in user as a React hook.
 *
 * The app never writes Firestore; it reads the balance document live under the security
 * rules. Everything else goes through the HTTP API with the user's ID token.
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
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { useSyncExternalStore } from "react";
import { config } from "./config";

export const app = initializeApp(config.firebase);
// initializeAuth without a popup/redirect resolver: email and password only, a smaller bundle.
export const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
export const db = getFirestore(app);

if (config.emulators) {
  connectAuthEmulator(auth, `http://${config.emulators.auth}`, { disableWarnings: true });
  const [host, port] = config.emulators.firestore.split(":");
  connectFirestoreEmulator(db, host ?? "127.0.0.1", Number(port));
}

export type Session =
  | { status: "loading" }
  | { status: "signedOut" }
  | { status: "signedIn"; user: User; uid: string; email: string | null; admin: boolean };

let session: Session = { status: "loading" };
const listeners = new Set<() => void>();

onIdTokenChanged(auth, async (user) => {
  if (!user) {
    session = { status: "signedOut" };
  } else {
    const token = await user.getIdTokenResult();
    session = { status: "signedIn", user, uid: user.uid, email: user.email, admin: token.claims.admin === true };
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

/** The ID token for an API call (refreshed by the SDK when it is about to expire). */
export async function idToken(): Promise<string | null> {
  return auth.currentUser ? auth.currentUser.getIdToken() : null;
}
