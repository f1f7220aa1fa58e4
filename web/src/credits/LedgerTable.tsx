/** The ledger as a table with real headers; on phones each row stacks into a card (CSS). */
import type { Entry } from "../api/client";
import { count, creditTypeLabel, metaSummary, signed, sourceLabel } from "../format";
import { Link } from "../router";
import { Time } from "../ui/bits";
import { blockSummary } from "./blocks";

const COLUMNS = ["Date", "Type", "Direction", "Amount", "Balance after", "Source", "Details"] as const;

export function LedgerTable({
  label,
  entries,
  loading,
  skeletonRows = 0,
  extraColumn,
  onOpen,
}: {
  label: string;
  entries: Entry[];
  loading: boolean;
  skeletonRows?: number;
  /** An extra first column (the admin table shows the user). */
  extraColumn?: { header: string; cell: (entry: Entry) => React.ReactNode };
  /** When given, each row has a button "Open entry" (and a click on the row) that calls it
   * instead of the links to the user's own Activity (the admin table). */
  onOpen?: (entry: Entry) => void;
}) {
  const headers = extraColumn ? [extraColumn.header, ...COLUMNS] : [...COLUMNS];
  return (
    <table className="ledger-table" aria-label={label} aria-busy={loading}>
      <thead>
        <tr>
          {headers.map((header) => (
            <th scope="col" key={header}>
              {header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr
            key={entry.id}
            data-entry-id={entry.id}
            className={onOpen ? "row-openable" : undefined}
            onClick={
              onOpen
                ? (event) => {
                    if (!(event.target as HTMLElement).closest("a, button")) onOpen(entry);
                  }
                : undefined
            }
          >
            {extraColumn && <td data-label={extraColumn.header}>{extraColumn.cell(entry)}</td>}
            <td data-label="Date" className="date-cell">
              <Time iso={entry.createdAt} />
            </td>
            <td data-label="Type">{creditTypeLabel(entry.type)}</td>
            <td data-label="Direction">
              <DirectionMark direction={entry.direction} />
            </td>
            <td data-label="Amount" className={`num amount-${entry.direction}`}>
              {signed(entry.delta)}
            </td>
            <td data-label="Balance after" className="num">
              {count(entry.balance_after)}
            </td>
            <td data-label="Source">{sourceLabel(entry.source)}</td>
            <td data-label="Details" className="details-cell">
              <EntryDetails entry={entry} onOpen={onOpen} />
            </td>
          </tr>
        ))}
        {Array.from({ length: skeletonRows }, (_, i) => (
          <tr key={`skeleton-${i}`} className="skeleton-row" aria-hidden="true">
            {headers.map((header) => (
              <td key={header}>
                <span className="skeleton" />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DirectionMark({ direction }: { direction: string }) {
  const credit = direction === "credit";
  return (
    <span className={`direction direction-${direction}`}>
      <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
        <path
          d={credit ? "M8 3v10M4 9l4 4 4-4" : "M8 13V3M4 7l4-4 4 4"}
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
        />
      </svg>
      {credit ? "Credit" : "Debit"}
    </span>
  );
}

function EntryDetails({ entry, onOpen }: { entry: Entry; onOpen?: (entry: Entry) => void }) {
  const meta = metaSummary(entry.meta as Record<string, unknown>);
  const blocks = blockSummary(entry);
  return (
    <div>
      <span className="reason">{entry.reason}</span>
      {meta && <span className="meta">{meta}</span>}
      {blocks && <span className="meta blocks">{blocks}</span>}
      {onOpen ? (
        <button type="button" className="link-button row-link" onClick={() => onOpen(entry)}>
          Open entry
        </button>
      ) : entry.jobId ? (
        <Link href={`/activity/job:${entry.jobId}`} className="row-link">
          View generation
        </Link>
      ) : entry.invoiceId || entry.paymentId ? (
        <Link href={`/activity/entry:${entry.id}`} className="row-link">
          View receipt
        </Link>
      ) : null}
    </div>
  );
}
