/** One ledger entry in full, for an admin: every field, ids to copy, links to search by them. */
import type { Entry } from "../api/client";
import { count, creditTypeLabel, signed, sourceLabel } from "../format";
import { Link } from "../router";
import { CopyableId, Fact, Time } from "../ui/bits";
import { Dialog } from "../ui/Dialog";
import { BlockFacts } from "../credits/BlockFacts";
import { DirectionMark } from "../credits/LedgerTable";
import { adminLedgerSearch, tabPath } from "./tabs";

export function EntryDrawer({ entry, onClose }: { entry: Entry; onClose: () => void }) {
  const meta = Object.entries((entry.meta ?? {}) as Record<string, unknown>);
  const search = (q: string) => tabPath("ledger", adminLedgerSearch({ q }));
  return (
    <Dialog
      label="Entry detail"
      variant="drawer"
      onClose={onClose}
      returnFocus={() =>
        document.querySelector<HTMLElement>(`tr[data-entry-id="${CSS.escape(entry.id)}"] button`) ??
        document.querySelector("h1")
      }
    >
      <div className="detail">
        <p className="detail-summary">
          {signed(entry.delta)} {creditTypeLabel(entry.type).toLowerCase()} credits · {sourceLabel(entry.source)}
        </p>
        <dl className="facts">
          <Fact term="Time">
            <Time iso={entry.createdAt} />
          </Fact>
          <Fact term="User">
            <Link href={search(`uid:${entry.uid}`)} onClick={onClose}>
              {entry.uid}
            </Link>
          </Fact>
          <Fact term="Type">{creditTypeLabel(entry.type)}</Fact>
          <Fact term="Direction">
            <DirectionMark direction={entry.direction} />
          </Fact>
          <Fact term="Amount">{count(entry.amount)}</Fact>
          <Fact term="Balance after">{count(entry.balance_after)}</Fact>
          <Fact term="Source">{sourceLabel(entry.source)}</Fact>
          <Fact term="Reason">{entry.reason || "—"}</Fact>
          <BlockFacts entry={entry} />
          <Fact term="Created by">{entry.createdBy}</Fact>
        </dl>
        <h3>Reference ids</h3>
        <dl className="facts ids">
          <Fact term="Entry id">
            <CopyableId label="entry id" value={entry.id} />
          </Fact>
          {entry.jobId && (
            <Fact term="Generation job id">
              <CopyableId label="generation job id" value={entry.jobId} />{" "}
              <Link href={search(`job:${entry.jobId}`)} onClick={onClose}>
                Entries of this job
              </Link>
            </Fact>
          )}
          {entry.paymentId && (
            <Fact term="Payment id">
              <CopyableId label="payment id" value={entry.paymentId} />{" "}
              <Link href={search(`payment:${entry.paymentId}`)} onClick={onClose}>
                Entries of this payment
              </Link>
            </Fact>
          )}
          {entry.invoiceId && (
            <Fact term="Invoice id">
              <CopyableId label="invoice id" value={entry.invoiceId} />
            </Fact>
          )}
          {entry.idempotencyKey && (
            <Fact term="Idempotency key">
              <CopyableId label="idempotency key" value={entry.idempotencyKey} />
            </Fact>
          )}
        </dl>
        {meta.length > 0 && (
          <>
            <h3>Details</h3>
            <dl className="facts">
              {meta.map(([name, value]) => (
                <Fact key={name} term={name}>
                  {typeof value === "object" ? JSON.stringify(value) : String(value)}
                </Fact>
              ))}
            </dl>
          </>
        )}
      </div>
    </Dialog>
  );
}
