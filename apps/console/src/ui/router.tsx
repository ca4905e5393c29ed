import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

/** History routing: real paths (/projects/p/groups/g/1) that the console server answers with index.html. */
export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
  window.scrollTo(0, 0);
}

export interface Location {
  readonly path: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
}

function current(): Location {
  const path = window.location.pathname;
  const segments = path
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path, segments, query: new URLSearchParams(window.location.search) };
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = (): void => setLocation(current());
    window.addEventListener("popstate", update);
    // A child's effect runs before this one and may already have navigated (a redirect on first
    // render): pick that up.
    update();
    return () => window.removeEventListener("popstate", update);
  }, []);
  return location;
}

/** A path from parts, each one encoded. */
export function href(...parts: readonly (string | number)[]): string {
  return `/${parts.map((p) => encodeURIComponent(String(p))).join("/")}`;
}

interface LinkProps {
  readonly href: string;
  readonly children?: ComponentChildren;
  readonly class?: string;
  readonly title?: string;
  readonly "data-testid"?: string;
  readonly "aria-current"?: "page";
}

/** An <a> that routes in the page on a plain click and stays a real link otherwise (new tab, copy). */
export function Link({ href: to, children, ...rest }: LinkProps): JSX.Element {
  const onClick = (e: MouseEvent): void => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
