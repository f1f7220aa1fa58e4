import type { Entry } from "../api/client";
import { Fact } from "../ui/bits";
import { blockFacts } from "./blocks";

/** What a ledger entry did to credit blocks: paid by, expired, returned to, or its expiry. */
export function BlockFacts({ entry }: { entry: Entry }) {
  return (
    <>
      {blockFacts(entry).map((fact) => (
        <Fact key={fact.term} term={fact.term}>
          {fact.lines.length === 1 ? (
            fact.lines[0]
          ) : (
            <ul className="fact-lines">
              {fact.lines.map((line, i) => (
                <li key={`${i}-${line}`}>{line}</li>
              ))}
            </ul>
          )}
        </Fact>
      ))}
    </>
  );
}
