/**
 * A list read page by page over the API's opaque cursors. A new `key` (other filters)
 * starts over; answers that arrive for an old key are dropped, so fast filter changes can
 * never mix rows of two queries, and a page is never requested twice.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Paged<T> {
  items: T[];
  /** "loading": the first page is on its way; "more": a further page is. */
  status: "loading" | "more" | "ready" | "error";
  error: ApiError | null;
  hasMore: boolean;
  loadMore: () => void;
  /** Start over from the first page (after something changed the data). */
  reload: () => void;
  /** Fetch the first page again and swap it in when it arrives, with no loading state between. */
  refresh: () => void;
}

interface State<T> {
  key: string;
  items: T[];
  cursor: string | null;
  status: Paged<T>["status"];
  error: ApiError | null;
  generation: number;
}

export function usePaged<T>(key: string, load: (cursor: string | null) => Promise<Page<T>>): Paged<T> {
  const [state, setState] = useState<State<T>>({
    key,
    items: [],
    cursor: null,
    status: "loading",
    error: null,
    generation: 0,
  });
  const loader = useRef(load);
  const inFlight = useRef<string | null>(null);
  useEffect(() => {
    loader.current = load;
  });

  const fetchPage = useCallback((forKey: string, cursor: string | null, generation: number) => {
    const ticket = `${forKey}|${generation}|${cursor ?? ""}`;
    if (inFlight.current === ticket) return;
    inFlight.current = ticket;
    loader.current(cursor).then(
      (page) =>
        setState((s) => {
          if (s.key !== forKey || s.generation !== generation) return s;
          inFlight.current = null;
          return {
            ...s,
            items: cursor ? [...s.items, ...page.items] : page.items,
            cursor: page.nextCursor,
            status: "ready",
            error: null,
          };
        }),
      (error: unknown) =>
        setState((s) => {
          if (s.key !== forKey || s.generation !== generation) return s;
          inFlight.current = null;
          const apiError =
            error instanceof ApiError ? error : new ApiError(0, "network", "The server could not be reached.");
          return { ...s, status: "error", error: apiError };
        }),
    );
  }, []);

  // A new key starts over (the state is reset during render, as React recommends).
  if (state.key !== key) {
    setState({ key, items: [], cursor: null, status: "loading", error: null, generation: state.generation + 1 });
  }

  useEffect(() => {
    if (state.status === "loading") fetchPage(state.key, null, state.generation);
  }, [state.key, state.status, state.generation, fetchPage]);

  const latest = useRef(state);
  useEffect(() => {
    latest.current = state;
  });
  const loadMore = useCallback(() => {
    const s = latest.current;
    if (s.status !== "ready" || !s.cursor) return;
    latest.current = { ...s, status: "more" };
    setState(latest.current);
    fetchPage(s.key, s.cursor, s.generation);
  }, [fetchPage]);

  const reload = useCallback(() => {
    setState((s) => ({ ...s, items: [], cursor: null, status: "loading", error: null, generation: s.generation + 1 }));
  }, []);

  const refresh = useCallback(() => {
    const s = latest.current;
    if (s.status !== "ready") return;
    latest.current = { ...s, generation: s.generation + 1 };
    setState(latest.current);
    fetchPage(s.key, null, latest.current.generation);
  }, [fetchPage]);

  return {
    items: state.key === key ? state.items : [],
    status: state.key === key ? state.status : "loading",
    error: state.error,
    hasMore: Boolean(state.cursor),
    loadMore,
    reload,
    refresh,
  };
}
