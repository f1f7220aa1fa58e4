/**
 * The local stand-in for Stripe Checkout, reached only on the emulators. Paying sends a
 * signed `checkout.session.completed` event through the real webhook code, as
 * `stripe trigger` would, so the whole loop (purchase, ledger, live balance, Activity) runs.
 * The purchase saves a test card for automatic top-up; which one (`testCard`) decides how the
 * automatic top-ups later charged to it go: paid, declined, or stopped for authentication.
 */
import { useEffect, useId, useState } from "react";
import { ApiError, type Pack, type TestCard, api } from "../api/client";
import { Link, navigate, useLocation } from "../router";
import { Notice } from "../ui/bits";
import { formatMoney } from "./money";

const TEST_CARDS: { value: TestCard; label: string; hint: string }[] = [
  { value: "succeeds", label: "Succeeds", hint: "Automatic top-ups charged to it are paid." },
  { value: "declined", label: "Declined", hint: "The bank declines every automatic top-up (card_declined)." },
  {
    value: "authentication_required",
    label: "Needs authentication",
    hint: "The bank asks to confirm every automatic top-up (3-D Secure), which nobody can do off-session.",
  },
];

export default function TestCheckoutPage() {
  const id = useId();
  const [card, setCard] = useState<TestCard>("succeeds");
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
      await api.testCheckout(session, pack, card);
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
            {item.name} · <strong>{formatMoney(item.unitAmount, item.currency)}</strong>
          </p>
        )}
        <p>
          This page stands in for Stripe Checkout on the local emulators. Paying sends a signed{" "}
          <code>checkout.session.completed</code> event for <code>{pack}</code> to the webhook code, exactly as Stripe
          would.
        </p>
        <fieldset className="test-card" aria-describedby={`${id}-about`}>
          <legend>Test card saved for automatic top-up</legend>
          <p className="test-card-about" id={`${id}-about`}>
            Test only: this purchase is paid either way. The choice decides how later automatic top-ups charged to the
            saved card go.
          </p>
          {TEST_CARDS.map((option) => (
            <div className="test-card-option" key={option.value}>
              <input
                type="radio"
                id={`${id}-${option.value}`}
                name={`${id}-card`}
                value={option.value}
                checked={card === option.value}
                onChange={() => setCard(option.value)}
                aria-describedby={`${id}-${option.value}-hint`}
              />
              <label htmlFor={`${id}-${option.value}`}>{option.label}</label>
              <span className="test-card-hint" id={`${id}-${option.value}-hint`}>
                {option.hint}
              </span>
            </div>
          ))}
        </fieldset>
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
