// Settings declared by the core and the plugins, grouped by what they are about (the first part of the name:
// mail, ticketing, shop, ...), each with a label and help in the admin's language where a translation exists
// (i18n keys setting.<name> and setting.<name>.help; the raw name stays visible, small), and in the units people
// use: seconds that are whole minutes as minutes, bytes as MB. Only what was changed is sent; a value can be put back
// to its default. Secrets are never shown, only whether one is set. The mail settings live on the mailboxes screen
// (SettingsForm with `only`), not here.
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { Alert } from '../../components.js';
import { ErrorAlert, fieldMessage, useList } from './common.js';
import { onLinkClick } from '../../router.js';
import { number } from '../../format.js';

const known = (key) => t(key) !== key;

/* The unit a whole-number setting is shown in: {factor, unit} (value shown = stored / factor), from its name. */
function unitOf(s) {
  if (s.type !== 'int') return null;
  const whole = (f) => [s.default, s.value].every((v) => v == null || Number(v) % f === 0);
  if (/_seconds$/.test(s.name)) return whole(3600) && Number(s.default) >= 3600 ? { factor: 3600, unit: 'unit.hours' }
    : whole(60) && Number(s.default) >= 60 ? { factor: 60, unit: 'unit.minutes' } : { factor: 1, unit: 'unit.seconds' };
  if (/_bytes$/.test(s.name)) return whole(1048576) ? { factor: 1048576, unit: 'unit.mb' } : { factor: 1, unit: 'unit.bytes' };
  if (/_minutes$/.test(s.name)) return { factor: 1, unit: 'unit.minutes' };
  if (/_hours$/.test(s.name)) return { factor: 1, unit: 'unit.hours' };
  if (/_days$/.test(s.name)) return { factor: 1, unit: 'unit.days' };
  return null;
}

function shown(v) {
  if (v === true) return t('admin.yes');
  if (v === false) return t('admin.no');
  if (v === '' || v == null) return t('admin.empty_value');
  return String(v);
}

export function SettingsScreen() {
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.settings_intro')}</p>
    <p class="muted small" data-region="mail-settings-elsewhere">${t('admin.settings_mail_elsewhere')}
      <a href="/app/admin/mailboxes" onClick=${onLinkClick}>${t('admin.settings_mail_link')}</a></p>
    <${SettingsForm} only=${(s) => !/^mail\./.test(s.name)} />
  </div>`;
}

/* The settings only(setting) picks, as grouped forms (the whole list when only is not given). */
export function SettingsForm({ only }) {
  const list = useList('/settings');
  const [edits, setEdits] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const set = (name, value) => {
    setSaved(false);
    setEdits((e) => ({ ...e, [name]: value }));
    setErrors((e) => { const c = { ...e }; delete c[name]; return c; });
  };
  const save = async (e) => {
    e.preventDefault();
    if (!Object.keys(edits).length || busy) return;
    const body = {};
    const bad = {};
    for (const s of list.items || []) {
      if (!(s.name in edits)) continue;
      let v = edits[s.name];
      if (s.type === 'int' && v !== null) {
        if (!/^-?\d+$/.test(String(v).trim())) { bad[s.name] = t('admin.whole_number'); continue; }
        v = parseInt(v, 10) * ((unitOf(s) || { factor: 1 }).factor);
      }
      body[s.name] = v;
    }
    if (Object.keys(bad).length) { setErrors(bad); return; }
    setBusy(true);
    try {
      await api('PATCH', '/settings', body);
      await list.reload();   /* the fields show the saved values before the edits go and "saved" shows */
      setEdits({});
      setErrors({});
      setSaved(true);
    } catch (err) {
      if (err.status === 422 && err.field) setErrors({ [err.field]: fieldMessage(err) });
      else list.setError(err);
    } finally {
      setBusy(false);
    }
  };
  const groups = {};
  for (const s of (list.items || []).filter((x) => !only || only(x))) {
    const g = s.name.split('.')[0];
    (groups[g] = groups[g] || []).push(s);
  }
  const groupName = (g) => (known('settings.group.' + g) ? t('settings.group.' + g)
    : g === 'core' ? t('admin.core_settings') : t('admin.plugin_settings', { name: g }));
  const field = (s) => {
    const id = 'setting-' + s.name.replace(/[^a-z0-9_-]/gi, '-');
    const u = unitOf(s);
    const scaled = (x) => (x == null || x === '' || !u ? x : Number(x) / u.factor);
    const v = s.name in edits ? edits[s.name] : scaled(s.value);
    const err = errors[s.name];
    const described = id + '-desc' + (err ? ' ' + id + '-error' : '');
    const common = { id, 'aria-describedby': described, 'aria-invalid': err ? 'true' : 'false', 'data-setting': s.name };
    let control;
    if (s.secret) {
      control = html`<input type="password" autocomplete="new-password" ...${common} value=${edits[s.name] || ''}
        placeholder=${s.set ? t('admin.secret_set') : t('admin.secret_unset')} onInput=${(e) => set(s.name, e.currentTarget.value)} />`;
    } else if (s.type === 'bool') {
      control = html`<input type="checkbox" ...${common} checked=${!!v} onChange=${(e) => set(s.name, e.currentTarget.checked)} />`;
    } else if (s.type === 'int') {
      control = html`<input type="number" inputmode="numeric" step="1" ...${common} value=${v == null ? '' : v}
        onInput=${(e) => set(s.name, e.currentTarget.value)} />${u ? html`<span class="unit" data-unit=${u.unit}>${t(u.unit)}</span>` : null}`;
    } else {
      control = html`<input type="text" ...${common} value=${v == null ? '' : v} onInput=${(e) => set(s.name, e.currentTarget.value)} />`;
    }
    const changed = s.name in edits;
    return html`<div class=${'setting' + (err ? ' field-invalid' : '') + (changed ? ' is-changed' : '')} key=${s.name}>
      <label for=${id} class="setting-name">${known('setting.' + s.name) ? html`<span class="setting-label">${t('setting.' + s.name)}</span>
        <code class="setting-key small muted">${s.name}</code>` : html`<code>${s.name}</code>`}
        ${s.secret ? html` <span class="badge">${s.set ? t('admin.set') : t('admin.unset')}</span>` : null}</label>
      <p class="muted small" id=${id + '-desc'} lang=${known('setting.' + s.name + '.help') ? undefined : 'en'}>${known('setting.' + s.name + '.help')
        ? t('setting.' + s.name + '.help') : s.description}
        ${!s.secret && s.default !== undefined ? html` <span class="default">(${t('admin.default_value', {
          value: u && s.default !== '' ? number(scaled(s.default)) + ' ' + t(u.unit) : shown(s.default) })})</span>` : null}</p>
      <div class="inline-form">${control}
        ${s.set && !changed ? html`<button class="btn btn-ghost btn-sm" type="button" onClick=${() => set(s.name, null)}
          data-action="reset">${s.secret ? t('admin.clear_secret') : t('admin.reset_default')}</button>` : null}
        ${changed ? html`<span class="small muted">${edits[s.name] === null ? t('admin.will_reset') : t('admin.unsaved')}</span>` : null}
      </div>
      ${err ? html`<p class="field-error" id=${id + '-error'}>${err}</p>` : null}
    </div>`;
  };
  return html`<div class="settings-form">
    <${ErrorAlert} error=${list.error} />
    ${saved ? html`<${Alert} kind="info">${t('admin.saved')}<//>` : null}
    <form class="settings" onSubmit=${save} novalidate data-form="settings">
      ${Object.keys(groups).map((g) => html`<fieldset class="card setting-group" key=${g}>
        <legend class="h3" data-group=${g}>${groupName(g)}</legend>
        ${groups[g].map(field)}</fieldset>`)}
      <div class="form-actions sticky-actions">
        <button class="btn btn-primary" type="submit" disabled=${busy || !Object.keys(edits).length} data-action="save">
          ${busy ? t('admin.saving') : t('admin.save')}</button>
        ${Object.keys(edits).length ? html`<button class="btn btn-ghost-text" type="button" disabled=${busy}
          onClick=${() => { setEdits({}); setErrors({}); }}>${t('admin.discard')}</button>` : null}
      </div>
    </form>
  </div>`;
}
