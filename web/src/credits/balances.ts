/**
 * The balance cards, from the balance document `users/{uid}/balances/current`, which holds
 * one integer field per credit type at its top level, named by the type (`image`, `video`),
 * beside its bookkeeping fields. Every type is read as data: the image and video cards are
 * always shown (before the first entry too), and a type the page has no words for yet still
 * gets a card of its own.
 */
import type { CreditType } from "../api/client";
import { creditTypeLabel } from "../format";

export interface BalanceCard {
  type: string;
  label: string;
  value: number;
  hint?: string;
}

/** The types of the API (a type added to openapi.yaml fails the type check until it is here). */
const HINTS: Record<CreditType, string> = {
  image: "for text-to-image and image-to-image",
  video: "for text-to-video and image-to-video",
};

/**
 * The balance document's fields that are not an amount (`BALANCE_FIELDS` of the ledger core,
 * which refuses a credit type of these names; a test holds the two lists together).
 */
export const BALANCE_FIELDS = ["amounts", "blocks", "blocksSince", "nextExpiry", "seq", "updatedAt"] as const;

/**
 * The document's amounts by credit type: each top-level integer that is not bookkeeping.
 * A document not yet moved from the older `amounts` map is read from the map.
 */
export function amountsOf(data: Record<string, unknown> | undefined): Record<string, number> {
  const legacy = data?.amounts;
  const stored =
    typeof legacy === "object" && legacy !== null
      ? (legacy as Record<string, unknown>)
      : Object.fromEntries(
          Object.entries(data ?? {}).filter(([name]) => !(BALANCE_FIELDS as readonly string[]).includes(name)),
        );
  return Object.fromEntries(
    Object.entries(stored).filter((pair): pair is [string, number] => Number.isInteger(pair[1])),
  );
}

/** A card per credit type: the API's types in their order, then any other the document holds. */
export function balanceCards(amounts: Readonly<Record<string, number>>): BalanceCard[] {
  const known = Object.keys(HINTS);
  const others = Object.keys(amounts)
    .filter((type) => !known.includes(type))
    .sort();
  return [...known, ...others].map((type) => ({
    type,
    label: `${creditTypeLabel(type)} credits`,
    value: amounts[type] ?? 0,
    hint: HINTS[type as CreditType],
  }));
}
