// History routing. The server answers /, /login, /setup, /app and /app/... with index.html, so every
// page has a real address; navigation here only swaps the view.
import { store } from './store.js';

/* Where a path really goes, given who is signed in: the app needs a session, the sign-in and setup pages
 * make no sense with one. */
function guard(path) {
  const signedIn = !!store.get().user;
  if (path === '/login' || path === '/setup') return signedIn ? '/app' : path;
  if (path === '/app' || path.startsWith('/app/')) return signedIn ? path : '/login';
  return signedIn ? '/app' : '/login';
}

function sync() {
  store.set({ path: location.pathname, query: location.search });
}

/* Goes to url ("/app", "/setup?token=..."), after the guard. replace: no new history entry. */
export function navigate(url, replace) {
  const target = new URL(url, location.origin);
  const path = guard(target.pathname);
  const next = path === target.pathname ? path + target.search : path;
  if (next !== location.pathname + location.search) {
    history[replace || path !== target.pathname ? 'replaceState' : 'pushState'](null, '', next);
  }
  sync();
}

/* Re-applies the guard to the current address (after sign-in, sign-out or boot). */
export function reroute() {
  navigate(location.pathname + location.search, true);
}

export function startRouter() {
  window.addEventListener('popstate', reroute);
  sync();
}

export function queryParam(name) {
  return new URLSearchParams(store.get().query).get(name);
}

/* Click handler for in-app links: plain clicks navigate without a page load, modified clicks (new tab) do not. */
export function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
      event.altKey) return;
  const href = event.currentTarget.getAttribute('href');
  if (!href || !href.startsWith('/')) return;
  event.preventDefault();
  navigate(href);
}
