/** Activity items grouped under "Today", "Yesterday" or their date, in the user's time zone. */
import { dayKey } from "../format";

export interface DayGroup<T> {
  /** YYYY-MM-DD in the user's time zone. */
  key: string;
  /** "Today", "Yesterday" or e.g. "Thursday, Nov 19, 2026". */
  label: string;
  items: T[];
}

/** Consecutive items of the same local day form one group; the feed's order is kept. */
export function groupByDay<T extends { time: string }>(
  items: readonly T[],
  now: Date,
  timeZone?: string,
): DayGroup<T>[] {
  const today = dayKey(now, timeZone);
  const yesterday = dayKey(new Date(now.getTime() - 86_400_000), timeZone);
  const groups: DayGroup<T>[] = [];
  for (const item of items) {
    const instant = new Date(item.time);
    const key = dayKey(instant, timeZone);
    let group = groups[groups.length - 1];
    if (!group || group.key !== key) {
      const label =
        key === today
          ? "Today"
          : key === yesterday
            ? "Yesterday"
            : new Intl.DateTimeFormat("en-US", {
                timeZone,
                weekday: "long",
                year: "numeric",
                month: "short",
                day: "numeric",
              }).format(instant);
      group = { key, label, items: [] };
      groups.push(group);
    }
    group.items.push(item);
  }
  return groups;
}
