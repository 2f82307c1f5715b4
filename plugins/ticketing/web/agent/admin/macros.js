// Macros: canned replies in Turkish and English (the customer's language is sent; the other when that one is
// empty) with variables, plus field changes (status, priority, tags, assignee), applied from a ticket's composer.
import { useEffect, useState } from 'preact/hooks';
import { PRIORITIES, STATUSES } from '../tickets.js';
import { VarButtons } from './vars.js';
import { Empty, ErrorAlert, F, FormActions, Section, Slot, api, html, insertAt, locale, placeCaret, required, splitList, t,
  useConfirm, useForm, useList, useUsers, useFocusOnMount, NewButton } from '@destek/agent';

const CHANGE_FIELD = { status: 'status', priority: 'priority', add_tags: 'add_tags', remove_tags: 'remove_tags',
  assignee_id: 'assignee', team_id: 'team' };

/* The form's assignee choice as the API's value: "" no change, "me", "none" (unassign) or a user id. */
function assigneeValue(changes) {
  if (!changes || !('assignee_id' in changes)) return '';
  const a = changes.assignee_id;
  if (a === null || a === 'none') return 'none';
  return String(a);
}

export function changesSummary(changes, users, teams) {
  const c = changes || {};
  const out = [];
  if (c.status) out.push(t('admin.set_status', { value: t('status.' + c.status) }));
  if (c.priority) out.push(t('admin.set_priority', { value: t('priority.' + c.priority) }));
  if (c.add_tags && c.add_tags.length) out.push(t('admin.adds_tags', { tags: c.add_tags.join(', ') }));
  if (c.remove_tags && c.remove_tags.length) out.push(t('admin.removes_tags', { tags: c.remove_tags.join(', ') }));
  if ('assignee_id' in c) {
    const a = c.assignee_id;
    if (a === 'me') out.push(t('admin.assigns_me'));
    else if (a === null || a === 'none') out.push(t('admin.unassigns'));
    else {
      const u = (users || []).find((x) => x.id === a);
      out.push(t('admin.assigns_to', { name: u ? u.name : '#' + a }));
    }
  }
  if ('team_id' in c) {
    const tm = (teams || []).find((x) => x.id === c.team_id);
    out.push(c.team_id === null ? t('admin.unsets_team') : t('admin.sets_team', { team: tm ? tm.name : '#' + c.team_id }));
  }
  return out;
}

function MacroForm({ macro, users, teams, onSaved, onCancel }) {
  const c = (macro && macro.changes) || {};
  const initial = {
    name: macro ? macro.name : '', body_tr: macro ? macro.body_tr : '', body_en: macro ? macro.body_en : '',
    status: c.status || '', priority: c.priority || '', add_tags: (c.add_tags || []).join(', '),
    remove_tags: (c.remove_tags || []).join(', '), assignee: assigneeValue(c),
    team: !('team_id' in c) ? '' : c.team_id === null ? 'none' : String(c.team_id),
  };
  useFocusOnMount(macro ? 'edit-macro-name' : 'macro-name');
  const form = useForm(macro ? 'edit-macro' : 'macro', initial, {
    fieldOf: (err) => {
      if (err.code === 'name_taken') return 'name';
      const m = /^changes\.(\w+)/.exec(err.message || '');
      if (err.field === 'changes' && m && CHANGE_FIELD[m[1]]) return CHANGE_FIELD[m[1]];
      return err.field;
    },
    validate: (v) => {
      const e = required(v, ['name']);
      if (!v.body_tr.trim() && !v.body_en.trim() && !v.status && !v.priority && !v.add_tags.trim() &&
          !v.remove_tags.trim() && !v.assignee && !v.team) e.body_tr = t('admin.macro_empty');
      return e;
    },
  });
  const [target, setTarget] = useState('body_tr');
  const insert = (text) => {
    const id = form.id + '-' + target;
    const { value, caret } = insertAt(id, form.values[target], text);
    form.set(target, value);
    placeCaret(id, caret);
  };
  const save = form.submit(async (v) => {
    const changes = {};
    if (v.status) changes.status = v.status;
    if (v.priority) changes.priority = v.priority;
    if (splitList(v.add_tags).length) changes.add_tags = splitList(v.add_tags);
    if (splitList(v.remove_tags).length) changes.remove_tags = splitList(v.remove_tags);
    if (v.assignee === 'none') changes.assignee_id = null;
    else if (v.assignee === 'me') changes.assignee_id = 'me';
    else if (v.assignee) changes.assignee_id = Number(v.assignee);
    if (v.team === 'none') changes.team_id = null;
    else if (v.team) changes.team_id = Number(v.team);
    const body = { name: v.name.trim(), body_tr: v.body_tr, body_en: v.body_en, changes };
    const saved = macro ? await api('PATCH', '/macros/' + macro.id, body) : await api('POST', '/macros', body);
    if (!macro) form.reset(initial);
    onSaved(saved);
  });
  const keep = [['', t('admin.no_change')]];
  return html`<${Section} title=${macro ? t('admin.edit_macro', { name: macro.name }) : t('admin.new_macro')} id=${form.id + '-title'}>
    <form class="form-grid" onSubmit=${save} data-form=${form.id} novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required wide />
      <${F} form=${form} name="body_tr" type="textarea" rows="5" lang="tr" label=${t('admin.reply_tr')} wide
        onFocus=${() => setTarget('body_tr')} />
      <${F} form=${form} name="body_en" type="textarea" rows="5" lang="en" label=${t('admin.reply_en')} wide
        onFocus=${() => setTarget('body_en')} />
      <div class="field-wide"><${VarButtons} onPick=${insert} />
        <p class="field-hint">${t('admin.variables_hint', { box: target === 'body_tr' ? t('admin.reply_tr') : t('admin.reply_en') })}</p>
        <${Slot} name="macro.tools" label=${t('admin.macro_tools')} insert=${insert}
          lang=${target === 'body_en' ? 'en' : 'tr'} disabled=${false} /></div>
      <p class="field-wide small muted">${t('admin.macro_changes')}</p>
      <${F} form=${form} name="status" type="select" label=${t('admin.status')}
        options=${[...keep, ...STATUSES.filter((s) => s !== 'new').map((s) => [s, t('status.' + s)])]} />
      <${F} form=${form} name="priority" type="select" label=${t('admin.priority')}
        options=${[...keep, ...PRIORITIES.map((p) => [p, t('priority.' + p)])]} />
      <${F} form=${form} name="add_tags" label=${t('admin.add_tags')} hint=${t('admin.tags_hint')} />
      <${F} form=${form} name="remove_tags" label=${t('admin.remove_tags')} hint=${t('admin.tags_hint')} />
      <${F} form=${form} name="assignee" type="select" label=${t('admin.assignee')}
        options=${[...keep, ['me', t('admin.assignee_me')], ['none', t('admin.assignee_none')],
          ...users.map((u) => [String(u.id), u.name])]} />
      <${F} form=${form} name="team" type="select" label=${t('admin.team')}
        options=${[...keep, ['none', t('admin.team_none')], ...(teams || []).map((tm) => [String(tm.id), tm.name])]} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${macro ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

export function MacrosScreen() {
  const list = useList('/macros');
  const users = useUsers();
  const [teams, setTeams] = useState([]);
  useEffect(() => { api('GET', '/teams').then((d) => setTeams((d && d.items) || []), () => {}); }, []);
  const [editing, setEditing] = useState(null);
  const [q, setQ] = useState('');
  const [ask, dialog] = useConfirm();
  const remove = (m) => ask({ message: t('admin.confirm_macro_delete', { name: m.name }),
    onConfirm: async () => { await api('DELETE', '/macros/' + m.id); await list.reload(); } });
  const needle = q.trim().toLocaleLowerCase(locale());
  const all = list.items || [];
  const items = needle ? all.filter((m) => m.name.toLocaleLowerCase(locale()).includes(needle)) : all;
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.macros_intro')}</p>
    ${editing === 'new' ? html`<${MacroForm} key="new" users=${users} teams=${teams} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : editing ? html`<${MacroForm} key=${'e' + editing.id} macro=${editing} users=${users} teams=${teams} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewButton} label=${t('admin.new_macro')} onClick=${() => setEditing('new')} />`}
    <${ErrorAlert} error=${list.error} />
    ${all.length ? html`<div class="search list-search">
      <label class="visually-hidden" for="macro-search">${t('admin.search_macros')}</label>
      <input id="macro-search" type="search" value=${q} placeholder=${t('admin.search_macros')}
        onInput=${(e) => setQ(e.currentTarget.value)} /></div>` : null}
    ${list.items && !all.length ? html`<${Empty}>${t('admin.no_macros')}<//>` : null}
    ${all.length && !items.length ? html`<${Empty}>${t('admin.no_macro_match', { q })}<//>` : null}
    <div class="item-list">
      ${items.map((m) => html`<article class="card item-card" key=${m.id} data-macro=${m.name}>
        <div class="row-between">
          <strong>${m.name}</strong>
          <div class="row-actions">
            <button class="btn btn-secondary btn-sm" type="button" data-action="edit"
              onClick=${() => { setEditing(m); }}>${t('admin.edit')}</button>
            <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete" onClick=${() => remove(m)}>${t('admin.delete')}</button>
          </div>
        </div>
        <div class="bilingual">
          <div><span class="badge">TR</span> <span class="pre small" lang="tr">${m.body_tr || '—'}</span></div>
          <div><span class="badge">EN</span> <span class="pre small" lang="en">${m.body_en || '—'}</span></div>
        </div>
        ${changesSummary(m.changes, users, teams).length ? html`<p class="small muted">${changesSummary(m.changes, users, teams).join(' · ')}</p>` : null}
      </article>`)}
    </div>
    ${dialog}
  </div>`;
}
