// The modules' part of the agents' app. scripts/build-web.mjs finds every plugins/<name>/web/agent/index.js and
// generates 'destek:modules' (their exports, in name order); the core's own screens are declared the same way in
// core.js. Out of them this makes the routes under /app, the top bar's navigation, the admin screens, the panels of
// named slots, the shortcut list, the words for API error codes and the events offered to webhooks. The fields are documented in plugins/README.md,
// "A module's screens and pages". A malformed entry is skipped with a console error naming its module, so that one
// module's mistake does not take the app down; a module that is absent contributes nothing.
import { Component } from 'preact';
import installed from 'destek:modules';
import { html } from './html.js';
import { store } from './store.js';
import * as core from './core.js';

const FIELDS = new Set(['routes', 'nav', 'admin', 'panels', 'shortcuts', 'errors', 'events']);
const ROLES = new Set([undefined, 'agent', 'admin']);
const SEGMENT = /^(?:[a-z0-9_-]+|\{[a-z_]+(?::int)?\})$/;

function complain(owner, what) {
  console.error(`destek: module ${owner}: ${what}: skipped`);
}

/* A route pattern ("/app/tickets/{id:int}") as {match(path) -> params or null, literals}. */
function compile(pattern) {
  const segments = pattern.split('/').slice(1);
  return {
    literals: segments.filter((s) => s[0] !== '{').length,
    match(path) {
      const parts = path.split('/').slice(1);
      if (parts.length !== segments.length) return null;
      const params = {};
      for (let i = 0; i < parts.length; i++) {
        const seg = segments[i];
        if (seg[0] !== '{') {
          if (parts[i] !== seg) return null;
          continue;
        }
        const [name, type] = seg.slice(1, -1).split(':');
        if (!parts[i] || (type === 'int' && !/^\d+$/.test(parts[i]))) return null;
        try {
          params[name] = decodeURIComponent(parts[i]);
        } catch (e) {
          return null; // a malformed %-escape names no page
        }
      }
      return params;
    },
  };
}

const byOrder = (a, b) => a.order - b.order || a.seq - b.seq;

let built = null;
function registry() {
  if (built) return built;
  built = { routes: [], nav: [], admin: [], panels: [], shortcuts: [], errors: {}, events: [] };
  const ids = { nav: new Set(), admin: new Set(), panels: new Set() };
  let seq = 0;
  for (const { name: owner, manifest: m } of [{ name: 'core', manifest: core }, ...installed]) {
    for (const field of Object.keys(m)) if (!FIELDS.has(field)) complain(owner, `unknown export "${field}"`);
    for (const r of m.routes || []) {
      if (typeof r.path !== 'string' || !/^\/app\/./.test(r.path) || !r.path.split('/').slice(2).every((s) => SEGMENT.test(s)) ||
          typeof r.page !== 'function' || !ROLES.has(r.role)) {
        complain(owner, `route ${JSON.stringify(r.path)} (a path under /app/ with {name} or {name:int} parts, a page, a role)`);
      } else if (built.routes.some((x) => x.path === r.path)) {
        complain(owner, `route ${r.path} is already taken by ${built.routes.find((x) => x.path === r.path).owner}`);
      } else {
        built.routes.push({ ...r, owner, ...compile(r.path) });
      }
    }
    const add = (list, field, item, ok, key) => {
      if (!ok) complain(owner, `${field} entry ${JSON.stringify(item.id || item.keys || '?')}`);
      else if (key && ids[field].has(key)) complain(owner, `${field} "${key}" is already taken`);
      else {
        if (key) ids[field].add(key);
        list.push({ ...item, owner, order: typeof item.order === 'number' ? item.order : 500, seq: seq++ });
      }
    };
    for (const n of m.nav || []) {
      add(built.nav, 'nav', n, /^\w+$/.test(n.id) && /^\/app\//.test(n.href) && n.label && ROLES.has(n.role), n.id);
    }
    for (const a of m.admin || []) {
      add(built.admin, 'admin', a, /^\w+$/.test(a.id) && a.label && typeof a.screen === 'function', a.id);
    }
    for (const p of m.panels || []) {
      add(built.panels, 'panels', p, /^\w+$/.test(p.id) && typeof p.slot === 'string' && typeof p.panel === 'function' &&
        ROLES.has(p.role), p.slot + ' ' + p.id);
    }
    for (const s of m.shortcuts || []) add(built.shortcuts, 'shortcuts', s, s.keys && s.label);
    Object.assign(built.errors, m.errors || {});
    for (const e of m.events || []) if (!built.events.some((x) => x.name === e)) built.events.push({ name: e, owner });
  }
  // The most literal pattern wins ("/app/x/new" before "/app/x/{id}"), as in the server's router.
  built.routes.sort((a, b) => b.literals - a.literals);
  for (const list of [built.nav, built.admin, built.panels, built.shortcuts]) list.sort(byOrder);
  return built;
}

const allowed = (item, user) => item.role !== 'admin' || (user && user.role === 'admin');

/* The navigation items user may see, in order: [{id, href, label, …}]. */
export function navItems(user) {
  return registry().nav.filter((n) => allowed(n, user));
}

/* The page for path: {route, params}, or null when no route claims it. The first navigation item user may see is
 * the home page, shown for /app (and for an /app address nobody claims): {route, params, home: item}. */
export function pageFor(path, user) {
  for (const route of registry().routes) {
    const params = route.match(path);
    if (params) return { route, params };
  }
  const home = navItems(user)[0];
  const target = home && home.href.split('?')[0];
  const found = target && target !== path ? pageFor(target, user) : null;
  return found && { ...found, home };
}

/* The admin screens, in order: [{id, label, screen, owner}]. */
export function adminScreens() {
  return registry().admin;
}

/* The keyboard shortcuts the help lists, in order: [{keys, label}]. */
export function shortcuts() {
  return registry().shortcuts;
}

/* The event names the modules emit, for the webhooks screen's quick picks (modules in name order, then the core). */
export function eventNames() {
  const { events } = registry();
  return [...events.filter((e) => e.owner !== 'core'), ...events.filter((e) => e.owner === 'core')].map((e) => e.name);
}

/* {code: i18n key} for API error codes the modules word themselves (adminErrorText). */
export function errorWords() {
  return registry().errors;
}

/* Keeps a module's broken panel or page from taking the screen down: it renders fallback (or nothing) instead,
 * and the error goes to the console with the module's name. */
export class Guard extends Component {
  componentDidCatch(error) {
    console.error(`destek: module ${this.props.owner} failed`, error);
    this.setState({ failed: true });
  }
  render({ children, fallback }, { failed }) {
    return failed ? fallback || null : children;
  }
}

/* A named place other modules fill with panels (e.g. "ticket.side", the ticket's customer panel). Every prop
 * besides name and label is handed to each panel. The section is there even when empty, so that the page's layout
 * does not depend on which modules are installed. */
export function Slot({ name, label, ...props }) {
  const user = store.get().user;
  const panels = registry().panels.filter((p) => p.slot === name && allowed(p, user));
  return html`<section class="plugin-slot" data-slot=${name} aria-label=${label}>
    ${panels.map((p) => html`<div class="plugin-panel" key=${p.owner + '.' + p.id} data-panel=${p.owner + '.' + p.id}>
      <${Guard} owner=${p.owner}><${p.panel} ...${props} /><//></div>`)}
  </section>`;
}
