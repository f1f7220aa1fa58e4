/** The Activity detail drawer: every field of the item, ids to copy, links to results and entries. */
import { useEffect, useRef, useState } from "react";
import { type ActivityDetail, type ActivityItem, ApiError, type Entry, api } from "../api/client";
import { track } from "../analytics";
import { count, creditTypeLabel, signed, sourceLabel } from "../format";
import { Link } from "../router";
import { BlockFacts } from "../credits/BlockFacts";
import { CopyableId, Fact, Notice, Spinner, Time } from "../ui/bits";
import { Dialog } from "../ui/Dialog";
import {
  ACTION_LABELS,
  TYPE_LABELS,
  creditsDelta,
  exportFilters,
  generationCost,
  qualityLabel,
  statusLabel,
} from "./labels";
import { openedToRecord } from "./opened";

type Loaded =
  { status: "loading" } | { status: "ready"; detail: ActivityDetail } | { status: "error"; error: ApiError };

/**
 * `listItem` is the list's item when the drawer was opened from the list (null for a deep
 * link): its opening is then recorded at once, not after the load (see `opened.ts`).
 */
export function DetailDrawer({
  itemId,
  listItem,
  search,
  onClose,
}: {
  itemId: string;
  listItem: ActivityItem | null;
  search: string;
  onClose: () => void;
}) {
  const [loaded, setLoaded] = useState<Loaded & { itemId: string }>({ itemId, status: "loading" });
  useEffect(() => {
    let live = true;
    api.activityItem(itemId).then(
      (detail) => live && setLoaded({ itemId, status: "ready", detail }),
      (error: unknown) =>
        live &&
        setLoaded({
          itemId,
          status: "error",
          error: error instanceof ApiError ? error : new ApiError(0, "network", "The server could not be reached."),
        }),
    );
    return () => {
      live = false;
    };
  }, [itemId]);

  const state: Loaded = loaded.itemId === itemId ? loaded : { status: "loading" };
  const detail = state.status === "ready" ? state.detail : null;

  // Once per opening: StrictMode's second effect run, re-renders and the detail arriving
  // after a list opening find this item id already recorded.
  const recorded = useRef<string | null>(null);
  useEffect(() => {
    const params = openedToRecord({ itemId, listItem, detail, recorded: recorded.current });
    if (!params) return;
    recorded.current = itemId;
    track({ name: "activity_item_opened", params });
  }, [itemId, listItem, detail]);

  return (
    <Dialog
      label="Activity detail"
      variant="drawer"
      onClose={onClose}
      returnFocus={() =>
        document.querySelector<HTMLElement>(`[data-item-id="${CSS.escape(itemId)}"]`) ?? document.querySelector("h1")
      }
    >
      {state.status === "loading" && <Spinner label="Loading the item" />}
      {state.status === "error" &&
        (state.error.code === "not_found" ? (
          <div className="not-found">
            <p className="empty-title">This item was not found</p>
            <p>It may have been typed wrong, or it belongs to another account.</p>
          </div>
        ) : (
          <Notice tone="error">{state.error.message}</Notice>
        ))}
      {state.status === "ready" && <DetailBody detail={state.detail} search={search} />}
    </Dialog>
  );
}

function DetailBody({ detail, search }: { detail: ActivityDetail; search: string }) {
  const { item, job, entries } = detail;
  const settings = (item.settings ?? {}) as Record<string, unknown>;
  const debit = entries.find((e) => e.direction === "debit");
  return (
    <div className="detail">
      <p className="detail-summary">{item.summary}</p>
      <dl className="facts">
        <Fact term="Type">{TYPE_LABELS[item.type]}</Fact>
        <Fact term="Time">
          <Time iso={item.time} />
        </Fact>
        {item.kind === "export" ? (
          <>
            <Fact term="Status">{item.rows == null ? "Requested (not downloaded to the end)" : "Downloaded"}</Fact>
            <Fact term="Entries">{item.rows == null ? "—" : count(item.rows)}</Fact>
            <Fact term="Filters">{exportFilters(item.filters)}</Fact>
            <Fact term="Format">CSV</Fact>
          </>
        ) : item.kind === "generation" ? (
          <>
            <Fact term="Status">{statusLabel(item.status)}</Fact>
            <Fact term="AI Influencer">
              {item.influencer?.name ?? "None"}
              {item.influencer?.id && <span className="muted"> (id: {item.influencer.id})</span>}
            </Fact>
            <Fact term="Quality">{qualityLabel(settings.quality) ?? "—"}</Fact>
            <Fact term="Aspect ratio">{String(settings.aspectRatio ?? "—")}</Fact>
            {typeof settings.model === "string" && <Fact term="Model">{settings.model}</Fact>}
            {typeof settings.numImages === "number" && <Fact term="Images">{settings.numImages}</Fact>}
            {typeof settings.durationSec === "number" && <Fact term="Duration">{settings.durationSec} s</Fact>}
            {job?.createdAt && (
              <Fact term="Created">
                <Time iso={job.createdAt} />
              </Fact>
            )}
            {item.failureReason && <Fact term="Failure">{item.failureReason}</Fact>}
            <Fact term="Credits">{generationCost(item.credits)}</Fact>
            {debit && <Fact term="Balance after">{count(debit.balance_after)}</Fact>}
            {debit && <BlockFacts entry={debit} />}
          </>
        ) : (
          <>
            <Fact term="Credits">{creditsDelta(item)}</Fact>
            <Fact term="Balance after">{count(item.balanceAfter ?? 0)}</Fact>
            <Fact term="Action">{ACTION_LABELS[item.action ?? ""] ?? item.action}</Fact>
            <Fact term="Source">{sourceLabel(item.source ?? "")}</Fact>
            <Fact term="Reason">{item.reason || "—"}</Fact>
            {entries[0] && <BlockFacts entry={entries[0]} />}
          </>
        )}
      </dl>

      <h3>Reference ids</h3>
      <dl className="facts ids">
        {(item.jobId ?? job?.id) && (
          <Fact term="Generation job id">
            <CopyableId label="generation job id" value={(item.jobId ?? job?.id) as string} />
          </Fact>
        )}
        {entries.map((entry) => (
          <Fact
            key={entry.id}
            term={
              entries.length > 1
                ? `Credit transaction id (${entry.source === "refund" ? "refund" : "charge"})`
                : "Credit transaction id"
            }
          >
            <CopyableId label={`credit transaction id ${entry.id}`} value={entry.id} />
          </Fact>
        ))}
        {item.paymentId && (
          <Fact term="Payment id">
            <CopyableId label="payment id" value={item.paymentId} />
          </Fact>
        )}
        {item.invoiceId && (
          <Fact term="Invoice id">
            <CopyableId label="invoice id" value={item.invoiceId} />
          </Fact>
        )}
        {item.exportId && (
          <Fact term="Export id">
            <CopyableId label="export id" value={item.exportId} />
          </Fact>
        )}
      </dl>

      {job && (
        <div className="detail-links">
          {job.outputs && job.outputs.length > 0 && item.kind === "generation" && (
            <ul className="output-links" aria-label="Outputs">
              {job.outputs.map((url, i) => (
                <li key={`${i}-${url}`}>
                  <a href={url} target="_blank" rel="noreferrer noopener">
                    Output {i + 1}
                  </a>
                </li>
              ))}
            </ul>
          )}
          {item.kind === "generation" ? (
            <Link href={`/generations/${encodeURIComponent(job.id)}`} className="button button-primary">
              View results
            </Link>
          ) : (
            <Link href={`/activity/job:${job.id}${search}`} className="button">
              View generation
            </Link>
          )}
        </div>
      )}

      {entries.length > 0 && (
        <>
          <h3>Ledger entries</h3>
          <ul className="linked-entries">
            {entries.map((entry) => (
              <LinkedEntry key={entry.id} entry={entry} current={item.id === `entry:${entry.id}`} search={search} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function LinkedEntry({ entry, current, search }: { entry: Entry; current: boolean; search: string }) {
  const text = `${signed(entry.delta)} ${creditTypeLabel(entry.type).toLowerCase()} · ${sourceLabel(entry.source)} · balance ${count(entry.balance_after)}`;
  return (
    <li>
      {current ? <span>{text}</span> : <Link href={`/activity/entry:${entry.id}${search}`}>{text}</Link>}
      <span className="muted">
        {" "}
        <Time iso={entry.createdAt} />
      </span>
    </li>
  );
}
