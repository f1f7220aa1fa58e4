/**
 * The local stand-in for Stripe Checkout, reached only on the emulators. Paying sends a
 * signed `checkout.session.completed` event through the real webhook code, as
 * `stripe trigger` would, so the whole loop (purchase, ledger, live balance, Activity) runs.
 */
import { useEffect, useState } from "react";
import { ApiError, type Pack, api } from "../api/client";
import { Link, navigate, useLocation } from "../router";
import { Notice } from "../ui/bits";
import { money } from "./TopUpPage";

export function TestCheckoutPage() {
  const params = new URLSearchParams(useLocation().search);
  const session = params.get("session") ?? "";
  const pack = params.get("pack") ?? "";
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const [item, setItem] = useState<Pack | null>(null);
  useEffect(() => {
    api.packs().then(
      (catalog) => setItem(catalog.packs.find((p) => p.id === pack) ?? null),
      () => setItem(null),
    );
  }, [pack]);

  async function pay() {
    setState({ busy: true, error: null });
    try {
      await api.testCheckout(session, pack);
      navigate("/credits?checkout=success");
    } catch (e) {
      setState({ busy: false, error: e instanceof ApiError ? e.message : "The test payment failed." });
    }
  }

  return (
    <>
      <div className="page-heading">
        <h1>Test checkout</h1>
      </div>
      <section className="panel test-checkout">
        <p className="test-badge">TEST MODE · no card is charged</p>
        {item && (
          <p className="checkout-item">
            {item.name} · <strong>{money(item.unitAmount, item.currency)}</strong>
          </p>
        )}
        <p>
          This page stands in for Stripe Checkout on the local emulators. Paying sends a signed{" "}
          <code>checkout.session.completed</code> event for <code>{pack}</code> to the webhook code, exactly as Stripe
          would.
        </p>
        {state.error && <Notice tone="error">{state.error}</Notice>}
        <div className="actions">
          <button
            type="button"
            className="button button-primary"
            onClick={pay}
            disabled={state.busy || !session || !pack}
          >
            {state.busy ? "Paying…" : "Pay (test)"}
          </button>
          <Link href="/top-up?checkout=cancelled" className="button">
            Cancel
          </Link>
        </div>
      </section>
    </>
  );
}
