// The colleague directory (GET /api/v1/directory): every signed-in user's view of who their colleagues are — id,
// name, role, active, online, and what modules add (ticketing: teams). Screens name people through it instead of
// "#3". Loaded once (every page of it) and kept; refreshed in the background when older than a minute, so online
// dots and new colleagues show up without a reload.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { store } from './store.js';
import { t } from './i18n.js';
import { html } from './html.js';

const MAX_AGE_MS = 60000;
let cache = null;          // [{id, name, role, active, online, teams?}]
let loadedAt = 0;
let pending = null;
const listeners = new Set();

async function fetchAll() {
  let items = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const d = await api('GET', '/directory?limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    items = items.concat((d && d.items) || []);
    cursor = d && d.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** The directory, loading it when needed; resolves [] when it cannot be read. */
export function loadDirectory({ fresh = false } = {}) {
  if (cache && !fresh && Date.now() - loadedAt < MAX_AGE_MS) return Promise.resolve(cache);
  if (!pending) {
    pending = fetchAll().then((items) => {
      cache = items;
      loadedAt = Date.now();
      for (const fn of listeners) fn(cache);
      return cache;
    }, () => cache || []).finally(() => { pending = null; });
  }
  return cache && !fresh ? Promise.resolve(cache) : pending;
}

/** The directory as state: [] until it has loaded, then every colleague (inactive ones too: history names them). */
export function useDirectory() {
  const [people, setPeople] = useState(cache || []);
  useEffect(() => {
    listeners.add(setPeople);
    loadDirectory().then(setPeople);
    return () => listeners.delete(setPeople);
  }, []);
  return people;
}

/** The person of id in people, or null. */
export function person(people, id) {
  return (people || []).find((p) => p.id === id) || null;
}

/** A person's name: "me" for the signed-in user's own id when asked, else their name; "#id" only for someone the
 * directory does not know (a user deleted from the database). */
export function personName(people, id, { me = false } = {}) {
  if (id == null) return '';
  const self = store.get().user;
  if (self && self.id === id) return me ? t('directory.me') : self.name;
  const p = person(people, id);
  return p ? p.name : '#' + id;
}

/** Forgets the cache (sign-out, or an admin changed users or teams). */
export function resetDirectory() {
  cache = null;
  loadedAt = 0;
}

/** A small dot saying whether a person is online (title and label in words), or nothing for an unknown person. */
export function OnlineDot({ person: p }) {
  if (!p) return null;
  const words = t(p.online ? 'directory.online' : 'directory.offline');
  return html`<span class=${'online-dot' + (p.online ? ' is-online' : '')} title=${words} role="img" aria-label=${words}
    data-online=${p.online ? 'true' : 'false'}></span>`;
}
