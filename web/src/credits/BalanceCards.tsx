import { count } from "../format";
import { Link } from "../router";
import { balanceCards } from "./balances";
import { expiringText } from "./blocks";
import { useBalances } from "./useBalances";

export function BalanceCards({ uid }: { uid: string }) {
  const balances = useBalances(uid);
  const cards = balanceCards(balances.amounts);
  return (
    <section className="balances" aria-label="Balances" aria-busy={balances.status === "loading"}>
      {cards.map((card) => {
        const expiring = balances.expiring[card.type];
        return (
          <div className="balance-card" key={card.type}>
            <h2 className="balance-label">{card.label}</h2>
            <p className="balance-value" aria-live="polite">
              {balances.status === "loading" ? (
                <span className="skeleton skeleton-number" aria-hidden="true" />
              ) : (
                count(card.value)
              )}
              {balances.status === "loading" && <span className="sr-only">Loading</span>}
            </p>
            {card.hint && <p className="balance-hint">{card.hint}</p>}
            {/* Always there, empty when nothing expires: the card keeps its height when the line arrives. */}
            <p className="balance-expiring">{expiring ? expiringText(expiring) : null}</p>
          </div>
        );
      })}
      <div className="balance-actions">
        <Link href="/top-up" className="button button-primary">
          Top up
        </Link>
        {balances.status === "error" && <p className="error-text">Live balances are unavailable right now.</p>}
      </div>
    </section>
  );
}
