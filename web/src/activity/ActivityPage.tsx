/** Activity: the user's generations, credit changes and exports, newest first, with the detail drawer. */
import { useEffect, useRef, useState } from "react";
import { type ActivityItem, type Influencers, api } from "../api/client";
import { track } from "../analytics";
import { navigate, useLocation } from "../router";
import { EmptyState, Field, Notice } from "../ui/bits";
import { usePaged } from "../ui/usePaged";
import { watchNewest } from "../firebase";
import { CreditAlertsBanner } from "../credits/CreditAlertsBanner";
import { ActivityList } from "./ActivityList";
import { DetailDrawer } from "./DetailDrawer";
import {
  type ActivityFilters,
  KIND_LABELS,
  RANGE_LABELS,
  type Kind,
  type Range,
  activitySearch,
  parseActivityFilters,
} from "./filters";

const PAGE_SIZE = 50;
/** How many of the newest items are watched for a write: new items, and the status of recent jobs. */
const WATCHED = 10;
const SETTLE_MS = 400;

/**
 * Show what just happened without a reload: a write to one of the newest items (a purchase
 * the trigger projected, a job that completed) fetches the first page again, once the burst
 * of writes settles. Not while more than one page is shown (`refresh` null): swapping in the
 * first page would drop the pages the user loaded.
 */
function useLiveRefresh(uid: string, refresh: (() => void) | null) {
  const latest = useRef(refresh);
  useEffect(() => {
    latest.current = refresh;
  });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = watchNewest(
      ["users", uid, "activity"],
      WATCHED,
      () => {
        clearTimeout(timer);
        timer = setTimeout(() => latest.current?.(), SETTLE_MS);
      },
      () => {}, // without the live signal the page still works; it only stops updating itself
    );
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [uid]);
}

export function ActivityPage({ uid, itemId }: { uid: string; itemId: string | null }) {
  const location = useLocation();
  const filters = parseActivityFilters(location.search);
  const search = activitySearch(filters);
  const feed = usePaged(`${uid}${search}`, async (cursor) => {
    const page = await api.activity(filters, cursor);
    return { items: page.items, nextCursor: page.nextCursor };
  });
  const influencers = useInfluencers(uid, feed.status !== "loading");
  useLiveRefresh(uid, feed.items.length <= PAGE_SIZE ? feed.refresh : null);

  // The list item the open drawer was opened from; forgotten once the drawer shows another
  // item or closes, so that Back to it later, like a deep link, waits for its load.
  const [openedFrom, setOpenedFrom] = useState<ActivityItem | null>(null);
  if (openedFrom && openedFrom.id !== itemId) setOpenedFrom(null);

  const viewed = useRef(false);
  useEffect(() => {
    if (viewed.current || feed.status !== "ready") return;
    viewed.current = true;
    track({
      name: "activity_viewed",
      params: { event_count: feed.items.length, date_range: filters.range, event_type_filter: filters.type },
    });
  }, [feed.status, feed.items.length, filters.range, filters.type]);

  function apply(name: "date_range" | "event_type" | "ai_influencer", next: ActivityFilters, value: string) {
    track({ name: "activity_filter_applied", params: { filter_name: name, filter_value: value } });
    navigate(`/activity${activitySearch(next)}`);
  }

  return (
    <>
      <div className="page-heading page-heading-alerts">
        <div>
          <h1 tabIndex={-1}>Activity</h1>
          <p className="lede">What you generated, every change to your credits, and your exports.</p>
        </div>
        <CreditAlertsBanner uid={uid} start={feed.status !== "loading"} />
      </div>
      <section className="panel">
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
          <Field label="Date range">
            {(id) => (
              <select
                id={id}
                value={filters.range}
                onChange={(e) => apply("date_range", { ...filters, range: e.target.value as Range }, e.target.value)}
              >
                {Object.entries(RANGE_LABELS).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Type">
            {(id) => (
              <select
                id={id}
                value={filters.type}
                onChange={(e) => apply("event_type", { ...filters, type: e.target.value as Kind }, e.target.value)}
              >
                {Object.entries(KIND_LABELS).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="AI Influencer">
            {(id) => (
              <select
                id={id}
                value={filters.influencerId ?? ""}
                onChange={(e) =>
                  apply(
                    "ai_influencer",
                    { ...filters, influencerId: e.target.value || undefined },
                    e.target.value || "all",
                  )
                }
              >
                <option value="">All influencers</option>
                {influencers.map((influencer) => (
                  <option key={influencer.id} value={influencer.id}>
                    {influencer.name ?? influencer.id}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </form>
        {feed.status === "error" && feed.error && <Notice tone="error">{feed.error.message}</Notice>}
        {feed.status === "loading" ? (
          <ActivitySkeleton />
        ) : (
          <ActivityList items={feed.items} search={search} onOpen={setOpenedFrom} />
        )}
        {feed.status === "ready" && feed.items.length === 0 && (
          <EmptyState title="No activity matches these filters">
            <p>Try a longer date range or another type.</p>
          </EmptyState>
        )}
        {feed.hasMore && (
          <div className="load-more">
            <button type="button" className="button" onClick={feed.loadMore} disabled={feed.status === "more"}>
              {feed.status === "more" ? "Loading…" : "Load more"}
            </button>
          </div>
        )}
      </section>
      {itemId && (
        <DetailDrawer
          itemId={itemId}
          listItem={openedFrom?.id === itemId ? openedFrom : null}
          search={search}
          onClose={() => navigate(`/activity${search}`)}
        />
      )}
    </>
  );
}

/**
 * The influencers for the filter's menu, asked for once the feed's first page has arrived
 * (`start`), so that this request never competes with the one that brings the first items.
 * Asked once per user: later filter changes do not ask again.
 */
function useInfluencers(uid: string, start: boolean): Influencers["influencers"] {
  const [state, setState] = useState<{ uid: string; list: Influencers["influencers"] }>({ uid, list: [] });
  const [started, setStarted] = useState(start);
  if (start && !started) setStarted(true);
  useEffect(() => {
    if (!started) return;
    let live = true;
    api.influencers().then(
      (result) => live && setState({ uid, list: result.influencers }),
      () => live && setState({ uid, list: [] }),
    );
    return () => {
      live = false;
    };
  }, [uid, started]);
  return state.uid === uid ? state.list : [];
}

function ActivitySkeleton() {
  return (
    <div className="activity-skeleton" aria-busy="true">
      <span className="sr-only" role="status">
        Loading activity
      </span>
      {Array.from({ length: 6 }, (_, i) => (
        <div key={i} className="skeleton-item" aria-hidden="true">
          <span className="skeleton skeleton-circle" />
          <span className="skeleton skeleton-line" />
        </div>
      ))}
    </div>
  );
}
