// Users and roles: add agents and admins, change name, role and language, reset a password (the user's sessions
// end), deactivate and activate. The server refuses to leave the desk without an active admin (409 last_admin).
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { useStore } from '../../store.js';
import { validateEmail, validatePassword } from '../../components.js';
import { ActiveBadge, Empty, ErrorAlert, F, FormActions, MoreButton, Section, Table, required, useConfirm, useForm,
  useList, useFocusOnMount } from './common.js';

const ROLE_OPTIONS = () => [['agent', t('role.agent')], ['admin', t('role.admin')]];
const LANG_OPTIONS = () => [['tr', t('lang.tr')], ['en', t('lang.en')]];
const BLANK = { name: '', email: '', password: '', role: 'agent', lang: 'tr' };

function NewUser({ onSaved }) {
  const form = useForm('user', BLANK, {
    fieldOf: (err) => (err.code === 'email_taken' ? 'email' : err.field),
    validate: (v) => {
      const e = required(v, ['name']);
      const em = validateEmail(v.email);
      if (em) e.email = em;
      const pw = validatePassword(v.password);
      if (pw) e.password = pw;
      return e;
    },
  });
  const save = form.submit(async (v) => {
    const u = await api('POST', '/users', v);
    form.reset(BLANK);
    onSaved(u);
  });
  return html`<${Section} title=${t('admin.new_user')} id="new-user">
    <form class="form-grid" onSubmit=${save} data-form="user" novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required autocomplete="off" />
      <${F} form=${form} name="email" type="email" label=${t('admin.f_email')} required autocomplete="off" />
      <${F} form=${form} name="password" type="password" label=${t('admin.f_password')} required
        autocomplete="new-password" hint=${t('field.password_hint')} />
      <${F} form=${form} name="role" type="select" label=${t('admin.f_role')} options=${ROLE_OPTIONS()} />
      <${F} form=${form} name="lang" type="select" label=${t('admin.f_lang')} options=${LANG_OPTIONS()} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${t('admin.create')} />
    </form><//>`;
}

function EditUser({ user, onSaved, onCancel }) {
  useFocusOnMount('edit-user-name');
  const form = useForm('edit-user', { name: user.name, role: user.role, lang: user.lang || 'tr' },
    { validate: (v) => required(v, ['name']) });
  const pw = useForm('reset-pw', { password: '' }, {
    validate: (v) => { const e = validatePassword(v.password); return e ? { password: e } : {}; },
  });
  const [done, setDone] = useState(false);
  const save = form.submit(async (v) => onSaved(await api('PATCH', '/users/' + user.id, v)));
  const reset = pw.submit(async (v) => {
    await api('PATCH', '/users/' + user.id, { password: v.password });
    pw.reset({ password: '' });
    setDone(true);
  });
  return html`<${Section} title=${t('admin.edit_user', { name: user.name })} id="edit-user">
    <form class="form-grid" onSubmit=${save} data-form="edit-user" novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required />
      <${F} form=${form} name="role" type="select" label=${t('admin.f_role')} options=${ROLE_OPTIONS()} />
      <${F} form=${form} name="lang" type="select" label=${t('admin.f_lang')} options=${LANG_OPTIONS()} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} onCancel=${onCancel} />
    </form>
    <form class="form-grid sub-form" onSubmit=${reset} data-form="reset-password" novalidate>
      <h3 class="h4">${t('admin.reset_password')}</h3>
      <${F} form=${pw} name="password" type="password" label=${t('admin.new_password')} required
        autocomplete="new-password" hint=${t('admin.reset_password_hint')} />
      <${ErrorAlert} error=${pw.error} />
      ${done ? html`<p class="ok-note" role="status">${t('admin.password_reset_done')}</p>` : null}
      <${FormActions} form=${pw} label=${t('admin.reset_password')} />
    </form><//>`;
}

export function UsersScreen() {
  const { user: me } = useStore();
  const list = useList('/users');
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  const [busy, setBusy] = useState(false);
  const setActive = async (u, active) => {
    setBusy(true);
    try {
      await api('PATCH', '/users/' + u.id, { active });
      await list.reload();
    } finally {
      setBusy(false);
    }
  };
  const toggle = (u) => {
    if (u.active === false) {
      setActive(u, true).catch(list.setError);
      return;
    }
    ask({ message: t('admin.confirm_deactivate', { name: u.name }), action: t('admin.deactivate'),
      onConfirm: () => setActive(u, false) });
  };
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.users_intro')}</p>
    ${editing ? html`<${EditUser} key=${editing.id} user=${editing} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewUser} onSaved=${() => list.reload()} />`}
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_users')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_users')} items=${items}
      rowAttrs=${(u) => ({ 'data-user': u.email })}
      columns=${[
        { label: t('admin.f_name'), cell: (u) => html`<strong>${u.name}</strong>${me && me.id === u.id ? html` <span class="muted small">(${t('admin.you')})</span>` : null}` },
        { label: t('admin.f_email'), cell: (u) => html`<span class="break">${u.email}</span>` },
        { label: t('admin.f_role'), cell: (u) => t('role.' + u.role) },
        { label: t('admin.f_lang'), cell: (u) => t('lang.' + (u.lang || 'tr')) },
        { label: t('admin.status'), cell: (u) => html`<${ActiveBadge} active=${u.active !== false} />` },
        { label: '', cls: 'cell-actions', cell: (u) => html`<div class="row-actions">
          <button class="btn btn-secondary btn-sm" type="button" data-action="edit"
            onClick=${() => setEditing(u)}>${t('admin.edit')}</button>
          <button class="btn btn-ghost btn-sm" type="button" disabled=${busy} data-action="toggle-active"
            onClick=${() => toggle(u)}>${u.active === false ? t('admin.activate') : t('admin.deactivate')}</button>
        </div>` },
      ]} />` : null}
    <${MoreButton} list=${list} />
    ${dialog}
  </div>`;
}
