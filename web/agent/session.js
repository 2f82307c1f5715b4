// Who is signed in, and the actions that change it. Every action keeps the store, the CSRF token and
// the address bar in step.
import { api, closeCalls, openCalls, setCsrfToken } from './api.js';
import { store } from './store.js';
import { applyLang, initialLang, isLang, rememberLang } from './i18n.js';
import { reroute } from './router.js';
import { resetDirectory } from './directory.js';

function signedIn(data) {
  setCsrfToken(data.csrf_token);
  store.set({ user: data.user, setupNeeded: false, notice: null });
  if (data.user && isLang(data.user.lang)) {
    applyLang(data.user.lang);
    rememberLang(data.user.lang);
  }
}

function signedOut(notice) {
  setCsrfToken(null);
  openCalls();
  resetDirectory();   /* the next user reads it afresh */
  store.set({ user: null, signingOut: false, notice: notice || null });
}

/* Start-up: ask the server who we are (401 means nobody), and if nobody, whether setup is still needed. */
export async function boot() {
  applyLang(initialLang());
  try {
    signedIn(await api('GET', '/me'));
  } catch (e) {
    signedOut();
    if (e.status !== 401) console.warn('destek: GET /api/v1/me failed:', e.code);
    try {
      const setup = await api('GET', '/setup');
      store.set({ setupNeeded: !!(setup && setup.needed) });
    } catch (e2) {
      store.set({ setupNeeded: false });
    }
  }
  store.set({ boot: false });
  reroute();
}

/* Creates the first admin with the token from the setup link; the server signs them in. */
export async function setup(token, fields) {
  signedIn(await api('POST', '/setup', { token, ...fields, lang: store.get().lang }));
  reroute();
}

export async function login(email, password) {
  signedIn(await api('POST', '/auth/login', { email, password }));
  reroute();
}

export async function logout() {
  /* Live updates stop first: the server closes the socket as the session ends, and pages must not refetch with
   * a session that is going away. */
  store.set({ signingOut: true });
  await closeCalls(2000);
  try {
    await api('POST', '/auth/logout');
  } catch (e) {
    // 401: the session had already ended, which is what we wanted; anything else, still leave locally.
    if (e.status !== 401) console.warn('destek: logout failed:', e.code);
  }
  signedOut('login.signed_out');
  reroute();
}

/* Called when an API call answers 401 while the app thinks it is signed in. */
export function sessionEnded() {
  signedOut('error.unauthenticated');
  reroute();
}

/* Changes the UI language now; a signed-in user's choice is saved on the server (PATCH /me), an anonymous
 * visitor's in localStorage. Rejects (after switching back) when the server refuses. */
export async function changeLang(lang) {
  if (!isLang(lang)) return;
  const previous = store.get().lang;
  if (lang === previous) return;
  applyLang(lang);
  rememberLang(lang);
  const user = store.get().user;
  if (!user) return;
  try {
    const data = await api('PATCH', '/me', { lang });
    if (data && data.user) store.set({ user: data.user });
  } catch (e) {
    if (e.status === 401) {
      sessionEnded();
      return;
    }
    applyLang(previous);
    rememberLang(previous);
    throw e;
  }
}
