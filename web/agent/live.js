// Live updates: one websocket to /api/v1/stream while someone is signed in (see README.md, "Live updates").
//
// The server sends small frames after each commit ({type:'event', name, ticket_id, seq, …}) and presence
// ({type:'presence', subject, viewers}); the app refetches what it shows when a relevant event arrives. The
// socket is best effort: after every (re)connect, and whenever the server says frames were lost, subscribers
// get {type:'resync'} and refetch. While it is down the pages fall back to their short polls, reconnecting with
// exponential backoff and jitter; presence is re-sent after a reconnect.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { store } from './store.js';
import { sessionEnded } from './session.js';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const listeners = new Set();
const stateListeners = new Set();
let ws = null;
let state = 'off';            // off (signed out) | connecting | open | down
let downSince = null;         // when the socket last stopped being open (ms), null while open
let attempt = 0;
let retryTimer = null;
let watchdog = null;
let heartbeatMs = 25000;
let userId = null;
let lastSeq = null;
let presence = null;          // the last presence message, re-sent after a reconnect

function setState(next) {
  if (next === state) return;
  if (next === 'open') downSince = null;
  else if (state === 'open' || downSince === null) downSince = Date.now();
  state = next;
  stateListeners.forEach((fn) => fn(state));
}

function emit(frame) {
  listeners.forEach((fn) => {
    try { fn(frame); } catch (e) { console.warn('destek: a live listener failed', e); }
  });
}

function sendNow(msg) {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg));
}

// A socket that has said nothing for more than two heartbeats is dead (sleeping laptop, changed network).
function armWatchdog() {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => { if (ws) ws.close(4000, 'silent'); }, heartbeatMs * 2.5);
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  attempt = Math.min(attempt + 1, 10);
  retryTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);   // "equal jitter"
}

function onFrame(f) {
  armWatchdog();
  if (f.type === 'hello') {
    attempt = 0;
    heartbeatMs = (f.heartbeat_seconds || 25) * 1000;
    lastSeq = f.seq;
    setState('open');
    if (presence) sendNow(presence);
    emit({ type: 'resync', reason: 'connected' });
    return;
  }
  if (f.type === 'event' || f.type === 'heartbeat' || f.type === 'resync') {
    // Every event frame goes to every socket: a gap in seq means some were lost on the way.
    const gap = lastSeq !== null && (f.type === 'event' ? f.seq > lastSeq + 1 : f.seq > lastSeq);
    if (typeof f.seq === 'number') lastSeq = Math.max(lastSeq || 0, f.seq);
    if (f.type === 'resync' || gap) {
      if (presence) sendNow(presence);
      emit({ type: 'resync', reason: f.type === 'resync' ? f.reason : 'gap' });
    }
    if (f.type !== 'event') return;
  }
  emit(f);
}

function connect() {
  clearTimeout(retryTimer);
  if (ws || userId === null || typeof WebSocket === 'undefined') return;
  if (state !== 'open') setState(state === 'off' ? 'connecting' : state);
  let sock;
  try {
    sock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/stream');
  } catch (e) {
    setState('down');
    scheduleRetry();
    return;
  }
  ws = sock;
  armWatchdog();
  sock.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch (err) { return; }
    if (ws === sock && f && typeof f.type === 'string') onFrame(f);
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    clearTimeout(watchdog);
    if (userId === null) { setState('off'); return; }
    setState('down');
    if (e.code === 4401) {
      // The server ended the socket because the session ended: find out for sure, then let the app sign out.
      api('GET', '/me').then(() => scheduleRetry(), (err) => { if (err.status === 401) sessionEnded(); else scheduleRetry(); });
      return;
    }
    scheduleRetry();
  };
}

function disconnect() {
  clearTimeout(retryTimer);
  clearTimeout(watchdog);
  const sock = ws;
  ws = null;
  presence = null;
  lastSeq = null;
  attempt = 0;
  setState('off');
  if (sock) sock.close(1000, 'signed out');
}

function retryNow() {
  if (userId !== null && !ws) {
    attempt = 0;
    connect();
  }
}

function follow(s) {
  const id = s.user && !s.signingOut ? s.user.id : null;
  if (id === userId) return;
  if (userId !== null) disconnect();
  userId = id;
  if (id !== null) connect();
}
store.subscribe(follow);
follow(store.get());
if (typeof window !== 'undefined') {
  window.addEventListener('online', retryNow);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) retryNow(); });
}

/* ---- the API for pages ---- */

/* Calls fn(frame) for every event, presence and resync frame; returns the function that stops it. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/* The connection state: 'open', 'connecting', 'down' or 'off'. */
export function liveState() {
  return state;
}

export function useLiveState() {
  const [s, setS] = useState(state);
  useEffect(() => {
    setS(state);
    stateListeners.add(setS);
    return () => stateListeners.delete(setS);
  }, []);
  return s;
}

/* Says which subject ("ticket:42") this tab views and whether its agent is typing; null for none. */
export function setPresence(subject, typing) {
  const msg = { type: 'presence', subject: subject || null, typing: !!(subject && typing) };
  presence = subject ? msg : null;
  sendNow(msg);
}

/* Keeps a page's data fresh: reload() runs (debounced) when an event that match(frame) accepts arrives or the
 * socket resyncs, and on a timer: every pollMs while the socket is down, every livePollMs while it is up (a
 * safety net, not the way updates arrive). Hidden tabs do not poll. */
export function useLiveRefresh(reload, { match = () => true, pollMs = 10000, livePollMs = 120000, debounceMs = 250 } = {},
  deps = []) {
  const current = useRef(reload);
  current.current = reload;
  const matcher = useRef(match);
  matcher.current = match;
  const live = useLiveState();
  useEffect(() => {
    let timer = null;
    const kick = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { if (userId !== null) current.current(); }, debounceMs);
    };
    const off = subscribe((f) => {
      if (f.type === 'resync' || (f.type === 'event' && matcher.current(f))) kick();
    });
    return () => { off(); clearTimeout(timer); };
  }, deps);
  useEffect(() => {
    const every = live === 'open' ? livePollMs : pollMs;
    const poll = setInterval(() => { if (!document.hidden && userId !== null) current.current(); }, every);
    return () => clearInterval(poll);
  }, [live, ...deps]);
}

/* A discreet note in the top bar while live updates are off for more than a moment. */
export function LiveStatus() {
  const s = useLiveState();
  const [, tick] = useState(0);
  useEffect(() => {
    if (s === 'open' || s === 'off') return undefined;
    const timer = setTimeout(() => tick((n) => n + 1), 3100);
    return () => clearTimeout(timer);
  }, [s]);
  if (s === 'open' || s === 'off' || downSince === null || Date.now() - downSince < 3000) return null;
  return html`<span class="live-status" role="status" data-live="down" title=${t('live.offline_hint')}>
    <span class="live-dot" aria-hidden="true"></span><span class="live-text">${t('live.offline')}</span></span>`;
}
