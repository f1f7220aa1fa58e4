/**
 * A component whose code is loaded on first use (a chunk of its own), shown in place as
 * soon as it arrives. Unlike `React.lazy` it does not suspend: React holds back content
 * revealed after a Suspense fallback for up to 300 ms, which would be most of the time a
 * lazily loaded page takes here. `preload()` starts the download early (for example when
 * the URL already names the page).
 */
import { type ComponentType, type ReactNode, createElement, useEffect, useState } from "react";
import { Notice } from "./bits";

export interface Loadable<P> {
  (props: P): ReactNode;
  preload: () => Promise<void>;
}

export function loadable<P extends object>(
  load: () => Promise<{ default: ComponentType<P> }>,
  fallback: ReactNode,
): Loadable<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  const preload = () =>
    (pending ??= load().then((module) => {
      loaded = module.default;
    }));

  function LoadableComponent(props: P): ReactNode {
    const [state, setState] = useState<"loading" | "ready" | "failed">(loaded ? "ready" : "loading");
    useEffect(() => {
      if (state !== "loading") return;
      let live = true;
      preload().then(
        () => live && setState("ready"),
        () => live && setState("failed"),
      );
      return () => {
        live = false;
      };
    }, [state]);
    if (loaded) return createElement(loaded, props);
    return state === "failed" ? (
      <Notice tone="error">This page could not be loaded. Reload to try again.</Notice>
    ) : (
      fallback
    );
  }
  return Object.assign(LoadableComponent, { preload });
}
