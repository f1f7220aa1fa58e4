/**
 * The balance cards, from the balance document `users/{uid}/balances/current`, whose
 * `amounts` map holds one integer per credit type. Every type is read as data: the image
 * and video cards are always shown (before the first entry too), and a type the page has no
 * words for yet still gets a card of its own.
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

/** The document's amounts: each integer of its `amounts` map, by credit type. */
export function amountsOf(data: Record<string, unknown> | undefined): Record<string, number> {
  const stored = data?.amounts;
  if (typeof stored !== "object" || stored === null) return {};
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
