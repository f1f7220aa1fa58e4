/// <reference types="vitest/config" />
// Builds the app into dist/, the folder Firebase Hosting serves (firebase.json).
// The emulator ports and the demo project id are read here from firebase.json and
// .firebaserc, so the app's one configuration module (src/config.ts) never repeats them.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const firebaseJson = JSON.parse(readFileSync(`${root}firebase.json`, "utf8"));
const firebaserc = JSON.parse(readFileSync(`${root}.firebaserc`, "utf8"));
const emulators = {
  projectId: firebaserc.projects.default,
  auth: `${firebaseJson.emulators.auth.host}:${firebaseJson.emulators.auth.port}`,
  firestore: `${firebaseJson.emulators.firestore.host}:${firebaseJson.emulators.firestore.port}`,
};

export default defineConfig({
  plugins: [react()],
  define: { __EMULATORS__: JSON.stringify(emulators) },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { "/api": `http://${firebaseJson.emulators.hosting.host}:${firebaseJson.emulators.hosting.port}` } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
