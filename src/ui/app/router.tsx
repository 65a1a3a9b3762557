// Client-side routing on Argo's UI URLs. Paths are kept relative to the page's <base href>, so the UI
// works under a prefix (Argo's --base-href) as well as at the root.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

export interface Location {
  /** Path below the base, always starting with "/". */
  path: string;
  query: URLSearchParams;
}

function basePath(): string {
  return new URL(document.baseURI).pathname;
}

export function currentLocation(): Location {
  const base = basePath();
  const pathname = window.location.pathname;
  const path = pathname.startsWith(base) ? `/${pathname.slice(base.length)}` : pathname;
  return {
    path: path === "/" ? "/" : path.replace(/\/+$/, ""),
    query: new URLSearchParams(window.location.search),
  };
}

/** The full URL of an in-app path like "/workflows/argo". */
export function href(path: string): string {
  return basePath() + path.replace(/^\//, "");
}

const listeners = new Set<() => void>();

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const url = href(path);
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  for (const l of listeners) l();
}

/** Sets one query parameter of the current URL without a new history entry (tab, nodeId). */
export function setQuery(name: string, value: string | undefined): void {
  const loc = currentLocation();
  if (value === undefined || value === "") loc.query.delete(name);
  else loc.query.set(name, value);
  const qs = loc.query.toString();
  navigate(loc.path + (qs ? `?${qs}` : ""), { replace: true });
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const update = (): void => setLoc(currentLocation());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return loc;
}

/** Matches "/workflows/:namespace/:name" style patterns; trailing parameters may be absent. */
export function matchRoute(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (got.length > want.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i];
    if (w.startsWith(":")) {
      if (g !== undefined) params[w.slice(1).replace(/\?$/, "")] = decodeURIComponent(g);
      else if (!w.endsWith("?")) return undefined;
    } else if (w !== g) return undefined;
  }
  return params;
}

export function Link(props: {
  to: string;
  children: ComponentChildren;
  class?: string;
  title?: string;
  "aria-current"?: "page" | undefined;
}): JSX.Element {
  return (
    <a
      href={href(props.to)}
      class={props.class}
      title={props.title}
      aria-current={props["aria-current"]}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
