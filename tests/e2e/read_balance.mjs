// Reads a user's balance document as a client app does: the Firebase JS SDK (the web app's
// own copy), signed in with email and password, under the security rules, against the
// Auth and Firestore emulators of the Emulator Suite.
//   node tests/e2e/read_balance.mjs EMAIL PASSWORD PROJECT [OTHER_UID]
// Prints {"uid", "data", "other"}: the caller's document, and whether reading OTHER_UID's
// balance was allowed or refused by the rules.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../web/package.json", import.meta.url));
const { initializeApp } = require("firebase/app");
const { connectAuthEmulator, getAuth, signInWithEmailAndPassword } = require("firebase/auth");
const { connectFirestoreEmulator, doc, getDoc, getFirestore } = require("firebase/firestore");

const [email, password, projectId, otherUid] = process.argv.slice(2);
const app = initializeApp({ apiKey: "demo-key", projectId });
const auth = getAuth(app);
connectAuthEmulator(auth, "http://127.0.0.1:9099", { disableWarnings: true });
const db = getFirestore(app);
connectFirestoreEmulator(db, "127.0.0.1", 8080);

const { user } = await signInWithEmailAndPassword(auth, email, password);
const own = await getDoc(doc(db, "users", user.uid, "balances", "current"));
let other = null;
if (otherUid) {
  try {
    await getDoc(doc(db, "users", otherUid, "balances", "current"));
    other = "allowed";
  } catch (error) {
    other = error.code;
  }
}
console.log(JSON.stringify({ uid: user.uid, data: own.data() ?? null, other }));
process.exit(0);
