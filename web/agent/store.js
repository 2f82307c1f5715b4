// A tiny state store: one plain object, replaced (never mutated) on every change, and a Preact hook
// that re-renders a component when it changes.
import { useEffect, useState } from 'preact/hooks';

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...patch };
      listeners.forEach((fn) => fn(state));
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/* The application state.
 *   boot       true until the first GET /api/v1/me has answered
 *   user       the signed-in user object (U in the API contract) or null
 *   setupNeeded true when the server has no admin yet (only asked when nobody is signed in)
 *   lang       "tr" | "en", the language the UI shows
 *   path, query  the current location (history routing)
 *   notice     a one-shot message key shown on the next page (e.g. "login.signed_out")
 *   signingOut true while a sign-out is on its way to the server (live updates stop at once) */
export const store = createStore({
  boot: true,
  user: null,
  setupNeeded: false,
  lang: 'en',
  path: '/',
  query: '',
  notice: null,
  signingOut: false,
});

export function useStore() {
  const [state, setState] = useState(store.get());
  useEffect(() => {
    setState(store.get());
    return store.subscribe(setState);
  }, []);
  return state;
}
