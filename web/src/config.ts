/**
 * The app's one configuration module: is it talking to the local emulators or to a real
 * Firebase project, and where.
 *
 * A production build gets its Firebase web config from `VITE_FIREBASE_CONFIG` (the JSON that
 * the Firebase console shows for a web app) and, optionally, an Analytics measurement id
 * from `VITE_FIREBASE_MEASUREMENT_ID`. A build without them is an emulator build: it talks to
 * the Auth and Firestore emulators at the hosts of firebase.json, for the project of
 * .firebaserc (both read by vite.config.ts at build time). The API is always same-origin
 * `/api`, which Hosting rewrites to the `credits_api` function.
 */
import type { FirebaseOptions } from "firebase/app";

declare const __EMULATORS__: { projectId: string; auth: string; firestore: string };

export interface EmulatorHosts {
  /** `host:port` of the Auth emulator. */
  auth: string;
  /** `host:port` of the Firestore emulator. */
  firestore: string;
}

export interface AppConfig {
  /** The options passed to `initializeApp`. */
  firebase: FirebaseOptions;
  /** Set when the app talks to the emulators; undefined in production. */
  emulators?: EmulatorHosts;
  /** Google Analytics measurement id; analytics events go to Firebase Analytics only when set. */
  measurementId?: string;
  /** Where the HTTP API answers. */
  apiBase: string;
}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const raw = env.VITE_FIREBASE_CONFIG;
  if (raw) {
    const firebase = JSON.parse(raw) as FirebaseOptions;
    const measurementId = env.VITE_FIREBASE_MEASUREMENT_ID || firebase.measurementId || undefined;
    return { firebase, measurementId, apiBase: "/api" };
  }
  return {
    firebase: { projectId: __EMULATORS__.projectId, apiKey: "emulator-api-key", authDomain: "127.0.0.1" },
    emulators: { auth: __EMULATORS__.auth, firestore: __EMULATORS__.firestore },
    apiBase: "/api",
  };
}

export const config: AppConfig = loadConfig(import.meta.env);
