/**
 * Top up: the credit-pack catalog (buying goes to Stripe Checkout, or the local test checkout),
 * automatic top-up, and the low-balance alerts. A chunk of its own: the first page's script
 * does not carry it.
 */
import { useEffect, useState } from "react";
import { ApiError, type Packs, api } from "../api/client";
import { count } from "../format";
import { Link, useLocation } from "../router";
import { Notice, Spinner } from "../ui/bits";
import { AutoTopUpSection } from "./AutoTopUpSection";
import { LowBalanceAlertsForm } from "./LowBalanceAlertsForm";
import { formatMoney } from "./money";

export default function TopUpPage({ uid }: { uid: string }) {
  const location = useLocation();
  const cancelled = new URLSearchParams(location.search).get("checkout") === "cancelled";
  const [catalog, setCatalog] = useState<Packs | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [buying, setBuying] = useState<string | null>(null);
  // The alerts form comes once automatic top-up is shown, so that neither moves the other.
  const [autoShown, setAutoShown] = useState(false);

  useEffect(() => {
    api
      .packs()
      .then(setCatalog, (e: unknown) => setError(e instanceof ApiError ? e.message : "The packs could not be loaded."));
  }, []);

  async function buy(pack: string) {
    setBuying(pack);
    setError(null);
    try {
      const { url } = await api.checkout(pack);
      window.location.assign(url);
    } catch (e) {
      setBuying(null);
      setError(e instanceof ApiError ? e.message : "The checkout could not be started.");
    }
  }

  return (
    <>
      <div className="page-heading">
        <h1>Top up</h1>
        <p className="lede">
          Buy a credit pack. Its credits appear on <Link href="/credits">Credits usage</Link> as soon as the payment is
          confirmed.
        </p>
      </div>
      {cancelled && <Notice>The checkout was cancelled; nothing was charged.</Notice>}
      {catalog?.testMode && (
        <Notice>
          <strong>Test mode.</strong> This app runs on the local emulators: checkout is simulated and no card is
          charged.
        </Notice>
      )}
      {error && <Notice tone="error">{error}</Notice>}
      {!catalog && !error && <Spinner label="Loading the packs" />}
      {catalog && (
        <ul className="packs" aria-label="Credit packs">
          {catalog.packs.map((pack) => (
            <li key={pack.id} className="pack">
              <h2>{pack.name}</h2>
              <p className="pack-price">{formatMoney(pack.unitAmount, pack.currency)}</p>
              <p className="pack-credits">
                Adds {count(pack.credits)} {pack.creditType} credits to your balance. One-time payment.{" "}
                {pack.lastsDays
                  ? `They expire ${count(pack.lastsDays)} days after the purchase.`
                  : "They never expire."}
              </p>
              <button
                type="button"
                className="button button-primary"
                onClick={() => buy(pack.id)}
                disabled={buying !== null}
                aria-label={`Buy ${pack.name}`}
              >
                {buying === pack.id ? "Opening checkout…" : "Buy"}
              </button>
            </li>
          ))}
        </ul>
      )}
      {catalog && <AutoTopUpSection uid={uid} packs={catalog.packs} onSettled={() => setAutoShown(true)} />}
      {(autoShown || (error !== null && !catalog)) && <LowBalanceAlertsForm />}
    </>
  );
}
