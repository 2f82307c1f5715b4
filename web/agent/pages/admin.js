// /app/admin/{users,tokens,webhooks,settings,plugins}: administrators only (the server enforces it too;
// an agent is never shown the links and gets an "admins only" notice at these addresses).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { onLinkClick } from '../router.js';
import { Alert, errorText } from '../components.js';
import { dateTime } from '../tickets.js';
import { Mailboxes } from './admin/mailboxes.js';

export const ADMIN_TABS = ['users', 'tokens', 'webhooks', 'settings', 'mailboxes', 'plugins'];

function useList(path) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const reload = () => api('GET', path).then((d) => { setItems((d && d.items) || []); setError(null); }, setError);
  useEffect(() => { reload(); }, [path]);
  return [items, error, reload, setError];
}

function Table({ head, rows }) {
  return html`<div class="table-wrap"><table class="table">
    <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function Users() {
  const [items, error, reload, setError] = useList('/users');
  const [f, setF] = useState({ name: '', email: '', password: '', role: 'agent' });
  const create = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/users', f);
      setF({ name: '', email: '', password: '', role: 'agent' });
      reload();
    } catch (err) { setError(err); }
  };
  const setActive = async (u, active) => {
    try { await api('PATCH', '/users/' + u.id, { active }); reload(); } catch (err) { setError(err); }
  };
  const input = (k, type) => html`<label class="field-inline"><span>${t('admin.f_' + k)}</span>
    <input name=${'user-' + k} type=${type || 'text'} value=${f[k]} required
      onInput=${(e) => setF({ ...f, [k]: e.currentTarget.value })} /></label>`;
  return html`${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    <form class="card form-row" onSubmit=${create} data-form="user">
      <h2 class="h3">${t('admin.new_user')}</h2>
      ${input('name')}${input('email', 'email')}${input('password', 'password')}
      <label class="field-inline"><span>${t('admin.f_role')}</span>
        <select name="user-role" value=${f.role} onChange=${(e) => setF({ ...f, role: e.currentTarget.value })}>
          <option value="agent">${t('role.agent')}</option><option value="admin">${t('role.admin')}</option>
        </select></label>
      <button class="btn btn-primary" type="submit">${t('admin.create')}</button>
    </form>
    ${items ? html`<${Table} head=${[t('admin.f_name'), t('admin.f_email'), t('admin.f_role'), t('admin.status'), '']}
      rows=${items.map((u) => html`<tr data-user=${u.email}>
        <td>${u.name}</td><td>${u.email}</td><td>${t('role.' + u.role)}</td>
        <td>${u.active === false ? t('admin.inactive') : t('admin.active')}</td>
        <td><button class="btn btn-ghost btn-sm" type="button" onClick=${() => setActive(u, u.active === false)}>
          ${u.active === false ? t('admin.activate') : t('admin.deactivate')}</button></td></tr>`)} />` : null}`;
}

function Tokens() {
  const [items, error, reload, setError] = useList('/tokens');
  const [name, setName] = useState('');
  const [secret, setSecret] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    try {
      const d = await api('POST', '/tokens', { name, scopes: ['agent'] });
      setSecret(d.secret);
      setName('');
      reload();
    } catch (err) { setError(err); }
  };
  const revoke = async (tok) => {
    try { await api('DELETE', '/tokens/' + tok.id); reload(); } catch (err) { setError(err); }
  };
  return html`${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${secret ? html`<div class="alert alert-info" role="status"><p>${t('admin.token_once')}</p>
      <code class="secret" data-secret>${secret}</code>
      <button class="btn btn-ghost btn-sm" type="button" onClick=${() => setSecret(null)}>${t('admin.done')}</button></div>` : null}
    <form class="card form-row" onSubmit=${create}>
      <h2 class="h3">${t('admin.new_token')}</h2>
      <label class="field-inline"><span>${t('admin.f_name')}</span>
        <input value=${name} required onInput=${(e) => setName(e.currentTarget.value)} /></label>
      <button class="btn btn-primary" type="submit">${t('admin.create')}</button>
    </form>
    ${items ? html`<${Table} head=${[t('admin.f_name'), t('admin.prefix'), t('admin.scopes'), t('admin.last_used'), '']}
      rows=${items.map((tok) => html`<tr>
        <td>${tok.name}</td><td><code>${tok.prefix}</code></td><td>${(tok.scopes || []).join(', ')}</td>
        <td>${tok.last_used_at ? dateTime(tok.last_used_at) : '—'}</td>
        <td>${tok.revoked ? t('admin.revoked') : html`<button class="btn btn-ghost btn-sm" type="button"
          onClick=${() => revoke(tok)}>${t('admin.revoke')}</button>`}</td></tr>`)} />` : null}`;
}

function Deliveries({ hook }) {
  const [items, error, reload, setError] = useList('/webhooks/' + hook.id + '/deliveries');
  const retry = async (d) => {
    try { await api('POST', '/webhooks/' + hook.id + '/deliveries/' + d.id + '/retry'); reload(); } catch (e) { setError(e); }
  };
  return html`<div class="deliveries">${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${items && !items.length ? html`<p class="muted small">${t('admin.no_deliveries')}</p>` : null}
    ${items && items.length ? html`<${Table} head=${[t('admin.event'), t('admin.status'), t('admin.attempts'), t('admin.when'), '']}
      rows=${items.map((d) => html`<tr><td>${d.event}</td><td>${String(d.status)}${d.response_status ? ' · ' + d.response_status : ''}</td>
        <td>${d.attempts != null ? d.attempts : d.attempt}</td><td>${dateTime(d.created_at)}</td>
        <td><button class="btn btn-ghost btn-sm" type="button" onClick=${() => retry(d)}>${t('admin.retry')}</button></td></tr>`)} />` : null}
  </div>`;
}

function Webhooks() {
  const [items, error, reload, setError] = useList('/webhooks');
  const [f, setF] = useState({ url: '', events: 'ticket.*', description: '' });
  const [open, setOpen] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/webhooks', { url: f.url, description: f.description,
        events: f.events.split(',').map((s) => s.trim()).filter(Boolean) });
      setF({ url: '', events: 'ticket.*', description: '' });
      reload();
    } catch (err) { setError(err); }
  };
  const remove = async (w) => {
    try { await api('DELETE', '/webhooks/' + w.id); reload(); } catch (err) { setError(err); }
  };
  return html`${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    <form class="card form-row" onSubmit=${create}>
      <h2 class="h3">${t('admin.new_webhook')}</h2>
      <label class="field-inline"><span>URL</span><input type="url" required value=${f.url}
        onInput=${(e) => setF({ ...f, url: e.currentTarget.value })} /></label>
      <label class="field-inline"><span>${t('admin.events')}</span><input value=${f.events}
        onInput=${(e) => setF({ ...f, events: e.currentTarget.value })} /></label>
      <label class="field-inline"><span>${t('admin.description')}</span><input value=${f.description}
        onInput=${(e) => setF({ ...f, description: e.currentTarget.value })} /></label>
      <button class="btn btn-primary" type="submit">${t('admin.create')}</button>
    </form>
    ${(items || []).map((w) => html`<section class="card" key=${w.id}>
      <div class="row-between"><div><strong class="break">${w.url}</strong>
        <p class="muted small">${(w.events || []).join(', ')} · ${w.active === false ? t('admin.inactive') : t('admin.active')}
          · ${t('admin.secret')}: ${w.has_secret ? t('admin.set') : t('admin.unset')}</p></div>
        <div><button class="btn btn-ghost btn-sm" type="button" onClick=${() => setOpen(open === w.id ? null : w.id)}>
          ${t('admin.deliveries')}</button>
        <button class="btn btn-ghost btn-sm" type="button" onClick=${() => remove(w)}>${t('admin.delete')}</button></div></div>
      ${open === w.id ? html`<${Deliveries} hook=${w} />` : null}
    </section>`)}`;
}

function Settings() {
  const [items, error, reload, setError] = useList('/settings');
  const [edits, setEdits] = useState({});
  const [saved, setSaved] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    if (!Object.keys(edits).length) return;
    try {
      await api('PATCH', '/settings', edits);
      setEdits({});
      setSaved(true);
      reload();
    } catch (err) { setError(err); }
  };
  const field = (s) => {
    const v = s.name in edits ? edits[s.name] : s.value;
    const set = (value) => { setSaved(false); setEdits({ ...edits, [s.name]: value }); };
    if (s.secret) {
      return html`<input type="password" autocomplete="new-password" value=${edits[s.name] || ''}
        placeholder=${s.set ? t('admin.secret_set') : t('admin.secret_unset')} onInput=${(e) => set(e.currentTarget.value)} />`;
    }
    if (s.type === 'bool') return html`<input type="checkbox" checked=${!!v} onChange=${(e) => set(e.currentTarget.checked)} />`;
    if (s.type === 'int') return html`<input type="number" value=${v} onInput=${(e) => set(Number(e.currentTarget.value))} />`;
    return html`<input type="text" value=${v == null ? '' : v} onInput=${(e) => set(e.currentTarget.value)} />`;
  };
  return html`${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${saved ? html`<${Alert} kind="info">${t('admin.saved')}<//>` : null}
    <form class="card settings" onSubmit=${save}>
      ${(items || []).map((s) => html`<label class="setting" key=${s.name}>
        <span class="setting-name"><code>${s.name}</code>${s.secret ? html` <span class="badge">${s.set ? t('admin.set') : t('admin.unset')}</span>` : null}</span>
        <span class="muted small">${s.description}</span>${field(s)}</label>`)}
      <button class="btn btn-primary" type="submit" disabled=${!Object.keys(edits).length}>${t('admin.save')}</button>
    </form>
    <p class="muted small">${t('admin.mail_note')}</p>`;
}

function Plugins() {
  const [items, error] = useList('/plugins');
  return html`${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${items ? html`<${Table} head=${[t('admin.f_name'), t('admin.version'), t('admin.kind')]}
      rows=${items.map((p) => html`<tr><td>${p.name}</td><td>${p.version}</td><td>${p.kind}</td></tr>`)} />` : null}`;
}

const SCREENS = { users: Users, tokens: Tokens, webhooks: Webhooks, settings: Settings, mailboxes: Mailboxes, plugins: Plugins };

export function AdminPage({ tab, user }) {
  if (user.role !== 'admin') {
    return html`<div class="pad" data-region="forbidden"><${Alert}>${t('admin.only')}<//></div>`;
  }
  const Screen = SCREENS[tab] || Users;
  return html`<div class="admin">
    <h1>${t('nav.admin')}</h1>
    <nav class="tabs admin-tabs" aria-label=${t('nav.admin')}>
      ${ADMIN_TABS.map((x) => html`<a href=${'/app/admin/' + x} onClick=${onLinkClick}
        class=${x === (SCREENS[tab] ? tab : 'users') ? 'is-active' : ''} data-tab=${x}>${t('admin.tab_' + x)}</a>`)}
    </nav>
    <${Screen} />
  </div>`;
}
