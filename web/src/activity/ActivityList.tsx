/** The Activity timeline: items grouped under Today, Yesterday and their dates. */
import type { ActivityItem } from "../api/client";
import { localTime, count } from "../format";
import { Link, navigatesInPlace } from "../router";
import { Time } from "../ui/bits";
import { groupByDay } from "./grouping";
import { creditsDelta, creditsHeadline, exportFilters, generationCredits, qualityLabel, statusLabel } from "./labels";

/** `onOpen` hears of an item opened in this page (not in a new tab), before the URL changes. */
export function ActivityList({
  items,
  search,
  onOpen,
}: {
  items: ActivityItem[];
  search: string;
  onOpen: (item: ActivityItem) => void;
}) {
  const groups = groupByDay(items, new Date());
  return (
    <ul className="activity-groups" aria-label="Activity items">
      {groups.map((group) => (
        <li key={group.key} className="activity-group">
          <h2 className="group-heading">{group.label}</h2>
          <ul className="activity-items">
            {group.items.map((item) => (
              <li key={item.id}>
                <Link
                  href={`/activity/${item.id}${search}`}
                  className="activity-item"
                  data-item-id={item.id}
                  onClick={(event) => navigatesInPlace(event) && onOpen(item)}
                >
                  <Row item={item} />
                </Link>
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}

function Row({ item }: { item: ActivityItem }) {
  if (item.kind === "generation") return <GenerationRow item={item} />;
  if (item.kind === "export") return <ExportRow item={item} />;
  return <CreditsRow item={item} />;
}

function ExportRow({ item }: { item: ActivityItem }) {
  return (
    <>
      <span className="item-icon item-icon-export" aria-hidden="true">
        ↓
      </span>
      <span className="item-main">
        <span className="item-title">{item.summary}</span>
        <span className="item-sub">
          <Time iso={item.time}>{localTime(item.time)}</Time>
          <span>{exportFilters(item.filters)}</span>
        </span>
      </span>
    </>
  );
}

function GenerationRow({ item }: { item: ActivityItem }) {
  const credits = generationCredits(item);
  const settings = (item.settings ?? {}) as Record<string, unknown>;
  const quality = qualityLabel(settings.quality);
  return (
    <>
      <span className={`item-icon item-icon-${item.status}`} aria-hidden="true">
        {item.status === "failed" ? "!" : settings.source?.toString().includes("video") ? "▶" : "◆"}
      </span>
      <span className="item-main">
        <span className="item-title">{item.summary}</span>
        <span className="item-sub">
          <Time iso={item.time}>{localTime(item.time)}</Time>
          <span className={`status status-${item.status}`}>Status: {statusLabel(item.status)}</span>
          {quality && <span>{quality}</span>}
          {typeof settings.aspectRatio === "string" && <span>{settings.aspectRatio}</span>}
        </span>
      </span>
      {credits && <span className={`item-credits tone-${credits.tone}`}>{credits.text}</span>}
    </>
  );
}

function CreditsRow({ item }: { item: ActivityItem }) {
  const credit = (item.delta ?? 0) > 0;
  return (
    <>
      <span className={`item-icon item-icon-${credit ? "credit" : "debit"}`} aria-hidden="true">
        {credit ? "+" : "−"}
      </span>
      <span className="item-main">
        <span className="item-title">{creditsHeadline(item)}</span>
        <span className="item-sub">
          <Time iso={item.time}>{localTime(item.time)}</Time>
          {typeof item.balanceAfter === "number" && <span>Balance: {count(item.balanceAfter)}</span>}
        </span>
      </span>
      <span className={`item-credits tone-${credit ? "credit" : "debit"}`}>{creditsDelta(item)}</span>
    </>
  );
}
