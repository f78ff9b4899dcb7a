/** A minimal client-side router: the path and query string of the page, and navigation without reloads. */
import { useEffect, useState } from 'react';

const NAVIGATE_EVENT = 'shoplens:navigate';

export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** The current location; re-renders on navigation and back/forward. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [href, setHref] = useState(() => location.pathname + location.search);
  useEffect(() => {
    const update = () => setHref(location.pathname + location.search);
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  const url = new URL(href, location.origin);
  return { path: url.pathname, search: url.searchParams };
}

/** Sets query-string parameters (undefined removes one), keeping the path. */
export function setSearchParams(
  changes: Record<string, string | undefined>,
  options: { replace?: boolean } = {},
): void {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') params.delete(k);
    else params.set(k, v);
  }
  const qs = params.toString();
  navigate(location.pathname + (qs ? `?${qs}` : ''), options);
}
