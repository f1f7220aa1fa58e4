/** Sign in with email and password; on the emulators, the demo accounts are listed to pick from. */
import { type FormEvent, useEffect, useState } from "react";
import { config } from "../config";
import { signIn } from "../firebase";
import { Field } from "../ui/bits";

export function SignInPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setState({ busy: true, error: null });
    try {
      await signIn(email.trim(), password);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      const message =
        code === "auth/invalid-credential" || code === "auth/wrong-password" || code === "auth/user-not-found"
          ? "That email and password do not match an account."
          : code === "auth/too-many-requests"
            ? "Too many attempts. Wait a minute and try again."
            : code === "auth/invalid-email"
              ? "Enter a valid email address."
              : "Signing in failed. Check your connection and try again.";
      setState({ busy: false, error: message });
    }
  }

  return (
    <div className="sign-in">
      <p className="brand sign-in-brand">
        <span className="brand-mark" aria-hidden="true" />
        Credits
      </p>
      <form className="panel sign-in-form" onSubmit={submit} aria-labelledby="sign-in-heading">
        <h1 id="sign-in-heading">Sign in</h1>
        <p className="lede">See your balances, every credit you spent, and what you generated.</p>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          )}
        </Field>
        {state.error && (
          <p className="error-text" role="alert">
            {state.error}
          </p>
        )}
        <button type="submit" className="button button-primary button-wide" disabled={state.busy}>
          {state.busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {config.emulators && (
        <DemoAccounts
          onPick={(demoEmail) => {
            setEmail(demoEmail);
            setPassword(DEMO_PASSWORD);
          }}
        />
      )}
    </div>
  );
}

const DEMO_PASSWORD = "demo-password";

interface DemoAccount {
  email: string;
  admin: boolean;
}

function isAdmin(customAttributes: string | undefined): boolean {
  try {
    return (JSON.parse(customAttributes ?? "{}") as { admin?: unknown }).admin === true;
  } catch {
    return false;
  }
}

/** The accounts in the Auth emulator (the demo users of scripts/seed_demo.py). */
function DemoAccounts({ onPick }: { onPick: (email: string) => void }) {
  const [accounts, setAccounts] = useState<DemoAccount[] | null>(null);
  useEffect(() => {
    const emulators = config.emulators;
    if (!emulators) return;
    const url = `http://${emulators.auth}/identitytoolkit.googleapis.com/v1/projects/${config.firebase.projectId}/accounts:batchGet?maxResults=50`;
    // "Bearer owner" is the emulators' administrator token; it means nothing in production.
    fetch(url, { headers: { Authorization: "Bearer owner" } })
      .then((r) => r.json())
      .then((body: { users?: { email?: string; customAttributes?: string }[] }) =>
        setAccounts(
          (body.users ?? [])
            .filter((u): u is { email: string; customAttributes?: string } => Boolean(u.email?.endsWith("@demo.test")))
            .map((u) => ({ email: u.email, admin: isAdmin(u.customAttributes) }))
            .sort((a, b) => Number(a.admin) - Number(b.admin) || a.email.localeCompare(b.email)),
        ),
      )
      .catch(() => setAccounts([]));
  }, []);

  return (
    <aside className="panel demo-accounts" aria-labelledby="demo-heading">
      <h2 id="demo-heading">Demo accounts</h2>
      <p>
        Local emulators only. Every demo account's password is <code>{DEMO_PASSWORD}</code>.
      </p>
      {accounts === null ? (
        <p className="muted">Looking for demo accounts…</p>
      ) : accounts.length === 0 ? (
        <p className="muted">
          No demo accounts yet: <code>bash scripts/run_local.sh</code> creates them.
        </p>
      ) : (
        <ul>
          {accounts.map((account) => (
            <li key={account.email}>
              <button type="button" className="link-button" onClick={() => onPick(account.email)}>
                Use {account.email}
              </button>
              {account.admin && <span className="badge">admin</span>}
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
