// Triggers: on a ticket event, when every condition holds, do the actions (tags, assignee, priority, an automatic
// reply in the customer's language). They run in position order; the built-in out-of-hours auto-reply is one of
// them and can be switched off here like any other.
import { useState } from 'preact/hooks';
import { CHANNELS, PRIORITIES } from '../tickets.js';
import { TEMPLATE_VARS, VarButtons } from './vars.js';
import { ActiveBadge, Empty, ErrorAlert, F, FormActions, MoveButtons, Section, Table, api, html, insertAt, placeCaret,
  reorder, required, splitList, t, useConfirm, useForm, useList, useUsers, useFocusOnMount, NewButton } from '@destek/agent';

const EVENTS = { 'ticket.created': 'admin.ev_created', 'message.added': 'admin.ev_message', 'ticket.updated': 'admin.ev_updated' };
const ACTORS = { customer: 'admin.actor_customer', agent: 'admin.actor_agent', system: 'admin.actor_system' };
const KINDS = { customer: 'admin.kind_customer', reply: 'admin.kind_reply', note: 'admin.kind_note' };
const HOURS = { open: 'admin.bh_open', closed: 'admin.bh_closed' };
// A trigger's reply is automatic: no agent, so {{agent.name}} would be empty.
const TRIGGER_VARS = TEMPLATE_VARS.filter((v) => v !== '{{agent.name}}');

/* Which form field a 422 on "conditions" / "actions" is about ("conditions.tag is not valid"). */
const COND_FIELDS = ['channel', 'priority', 'tag', 'contains', 'message_kind', 'actor', 'business_hours', 'calendar_id'];
const ACT_FIELDS = { priority: 'a_priority', add_tags: 'a_tags', assignee_id: 'a_assignee', reply_tr: 'reply_tr', reply_en: 'reply_en' };
function fieldOf(err) {
  const m = /^(conditions|actions)\.(\w+)/.exec(err.message || '');
  if (err.field === 'conditions') return m && COND_FIELDS.includes(m[2]) ? m[2] : 'conditions';
  if (err.field === 'actions') return m && ACT_FIELDS[m[2]] ? ACT_FIELDS[m[2]] : 'actions';
  return err.field;
}

const opt = (map) => Object.keys(map).map((k) => [k, t(map[k])]);

function TriggerForm({ trigger, users, teams, calendars, onSaved, onCancel }) {
  const c = (trigger && trigger.conditions) || {};
  const a = (trigger && trigger.actions) || {};
  const initial = {
    name: trigger ? trigger.name : '', event: trigger ? trigger.event : 'ticket.created', active: trigger ? trigger.active : true,
    channel: c.channel || '', priority: c.priority || '', tag: c.tag || '', contains: c.contains || '',
    message_kind: c.message_kind || '', actor: c.actor || '', business_hours: c.business_hours || '',
    calendar_id: c.calendar_id ? String(c.calendar_id) : '',
    a_tags: (a.add_tags || []).join(', '), a_assignee: a.assignee_id ? String(a.assignee_id) : a.assign_round_robin ? 'rr:' + a.assign_round_robin : '', a_priority: a.priority || '',
    reply_tr: a.reply_tr || '', reply_en: a.reply_en || '', conditions: null, actions: null,
  };
  useFocusOnMount(trigger ? 'edit-trigger-name' : 'trigger-name');
  const form = useForm(trigger ? 'edit-trigger' : 'trigger', initial, {
    fieldOf,
    validate: (v) => {
      const e = required(v, ['name']);
      if (!splitList(v.a_tags).length && !v.a_assignee && !v.a_priority && !v.reply_tr.trim() && !v.reply_en.trim())
        e.actions = t('admin.need_action');
      return e;
    },
  });
  const v = form.values;
  const [target, setTarget] = useState('reply_tr');
  const insert = (text) => {
    const id = form.id + '-' + target;
    const r = insertAt(id, form.values[target], text);
    form.set(target, r.value);
    placeCaret(id, r.caret);
  };
  const save = form.submit(async (x) => {
    const conditions = {};
    for (const k of ['channel', 'priority', 'actor', 'business_hours']) if (x[k]) conditions[k] = x[k];
    for (const k of ['tag', 'contains']) if (x[k].trim()) conditions[k] = x[k].trim();
    if (x.event === 'message.added' && x.message_kind) conditions.message_kind = x.message_kind;
    if (x.business_hours && x.calendar_id) conditions.calendar_id = Number(x.calendar_id);
    const actions = {};
    if (splitList(x.a_tags).length) actions.add_tags = splitList(x.a_tags);
    if (x.a_assignee.startsWith('rr:')) actions.assign_round_robin = Number(x.a_assignee.slice(3));
    else if (x.a_assignee) actions.assignee_id = Number(x.a_assignee);
    if (x.a_priority) actions.priority = x.a_priority;
    if (x.reply_tr.trim()) actions.reply_tr = x.reply_tr;
    if (x.reply_en.trim()) actions.reply_en = x.reply_en;
    const body = { name: x.name.trim(), event: x.event, active: x.active, conditions, actions };
    const saved = trigger ? await api('PATCH', '/triggers/' + trigger.id, body) : await api('POST', '/triggers', body);
    if (!trigger) form.reset(initial);
    onSaved(saved);
  });
  const any = [['', t('admin.any')]];
  const groupError = (name) => (form.errors[name] ? html`<p class="field-error field-wide" id=${form.id + '-' + name}
    tabindex="-1" data-error-for=${name}>${form.errors[name]}</p>` : null);
  return html`<${Section} title=${trigger ? t('admin.edit_trigger', { name: trigger.name }) : t('admin.new_trigger')} id=${form.id + '-title'}>
    <form class="form-grid" onSubmit=${save} data-form=${form.id} novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required />
      <${F} form=${form} name="event" type="select" label=${t('admin.when_event')} options=${opt(EVENTS)} />
      <h3 class="h4 field-wide">${t('admin.conditions_all')}</h3>
      ${groupError('conditions')}
      <${F} form=${form} name="channel" type="select" label=${t('admin.channel')}
        options=${[...any, ...CHANNELS.map((x) => [x, t('channel.' + x)])]} />
      <${F} form=${form} name="priority" type="select" label=${t('admin.priority')}
        options=${[...any, ...PRIORITIES.map((x) => [x, t('priority.' + x)])]} />
      <${F} form=${form} name="tag" label=${t('admin.has_tag')} placeholder=${t('admin.any')} />
      <${F} form=${form} name="contains" label=${t('admin.contains')} hint=${t('admin.contains_hint')} />
      <${F} form=${form} name="actor" type="select" label=${t('admin.actor')} options=${[...any, ...opt(ACTORS)]} />
      ${v.event === 'message.added' ? html`<${F} form=${form} name="message_kind" type="select" label=${t('admin.message_kind')}
        options=${[...any, ...opt(KINDS)]} />` : null}
      <${F} form=${form} name="business_hours" type="select" label=${t('admin.business_hours')} options=${[...any, ...opt(HOURS)]} />
      ${v.business_hours ? html`<${F} form=${form} name="calendar_id" type="select" label=${t('admin.calendar')}
        options=${[['', t('admin.default_calendar')], ...calendars.map((x) => [String(x.id), x.name])]} />` : null}
      <h3 class="h4 field-wide">${t('admin.actions')}</h3>
      ${groupError('actions')}
      <${F} form=${form} name="a_tags" label=${t('admin.add_tags')} hint=${t('admin.tags_hint')} />
      <${F} form=${form} name="a_priority" type="select" label=${t('admin.set_priority_to')}
        options=${[['', t('admin.no_change')], ...PRIORITIES.map((x) => [x, t('priority.' + x)])]} />
      <${F} form=${form} name="a_assignee" type="select" label=${t('admin.assign_to')}
        options=${[['', t('admin.no_change')], ...teams.map((tm) => ['rr:' + tm.id, t('admin.rr_in_team', { team: tm.name })]),
          ...users.map((u) => [String(u.id), u.name])]} />
      <${F} form=${form} name="reply_tr" type="textarea" rows="4" lang="tr" label=${t('admin.auto_reply_tr')} wide
        onFocus=${() => setTarget('reply_tr')} />
      <${F} form=${form} name="reply_en" type="textarea" rows="4" lang="en" label=${t('admin.auto_reply_en')} wide
        onFocus=${() => setTarget('reply_en')} />
      <div class="field-wide"><${VarButtons} vars=${TRIGGER_VARS} onPick=${insert} />
        <p class="field-hint">${t('admin.auto_reply_hint')}</p></div>
      <${F} form=${form} name="active" type="checkbox" label=${t('admin.trigger_active')} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${trigger ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

function conditionsText(c, calendars) {
  const out = [];
  if (c.channel) out.push(t('channel.' + c.channel));
  if (c.priority) out.push(t('priority.' + c.priority));
  if (c.tag) out.push('#' + c.tag);
  if (c.contains) out.push(t('admin.contains_text', { text: c.contains }));
  if (c.actor) out.push(t('admin.by_actor', { who: t(ACTORS[c.actor] || 'admin.actor_system') }));
  if (c.message_kind) out.push(t(KINDS[c.message_kind] || 'admin.kind_reply'));
  if (c.business_hours) {
    const cal = c.calendar_id && calendars.find((x) => x.id === c.calendar_id);
    out.push(t(HOURS[c.business_hours]) + (cal ? ' (' + cal.name + ')' : ''));
  }
  return out.length ? out.join(' · ') : t('admin.always');
}

function actionsText(a, users, teams) {
  const out = [];
  if (a.add_tags && a.add_tags.length) out.push(t('admin.adds_tags', { tags: a.add_tags.join(', ') }));
  if (a.priority) out.push(t('admin.set_priority', { value: t('priority.' + a.priority) }));
  if (a.assignee_id) {
    const u = users.find((x) => x.id === a.assignee_id);
    out.push(t('admin.assigns_to', { name: u ? u.name : '#' + a.assignee_id }));
  }
  if (a.assign_round_robin) {
    const tm = teams.find((x) => x.id === a.assign_round_robin);
    out.push(t('admin.rr_in_team', { team: tm ? tm.name : '#' + a.assign_round_robin }));
  }
  if (a.reply_tr || a.reply_en) out.push(t('admin.sends_reply'));
  return out.join(' · ');
}

export function TriggersScreen() {
  const list = useList('/triggers');
  const cals = useList('/calendars');
  const users = useUsers();
  const teamList = useList('/teams');
  const teams = teamList.items || [];
  const [editing, setEditing] = useState(null);
  const [busy, setBusy] = useState(false);
  const [ask, dialog] = useConfirm();
  const items = list.items || [];
  const calendars = cals.items || [];
  const run = async (fn) => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      list.setError(e);
    } finally {
      await list.reload();
      setBusy(false);
    }
  };
  const move = (i, delta) => run(() => reorder(items, i, delta, (x) => '/triggers/' + x.id));
  const setActive = (tr, active) => api('PATCH', '/triggers/' + tr.id, { active }).then(() => list.reload());
  const toggle = (tr) => {
    if (!tr.active) { run(() => api('PATCH', '/triggers/' + tr.id, { active: true })); return; }
    ask({ message: t('admin.confirm_trigger_off', { name: tr.name }), action: t('admin.deactivate'),
      onConfirm: () => setActive(tr, false) });
  };
  const remove = (tr) => ask({ message: t('admin.confirm_trigger_delete', { name: tr.name }),
    onConfirm: async () => { await api('DELETE', '/triggers/' + tr.id); await list.reload(); } });
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.triggers_intro')}</p>
    ${editing === 'new' ? html`<${TriggerForm} key="new" users=${users} teams=${teams} calendars=${calendars}
      onCancel=${() => setEditing(null)} onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : editing ? html`<${TriggerForm} key=${'e' + editing.id} trigger=${editing} users=${users} teams=${teams} calendars=${calendars}
      onCancel=${() => setEditing(null)} onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewButton} label=${t('admin.new_trigger')} onClick=${() => setEditing('new')} />`}
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_triggers')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_triggers')} items=${items}
      rowAttrs=${(x) => ({ 'data-trigger': x.name, 'data-active': x.active ? 'true' : 'false' })}
      columns=${[
        { label: t('admin.order'), cls: 'cell-order', cell: (x) => html`<span class="muted">${items.indexOf(x) + 1}</span>` },
        { label: t('admin.f_name'), cell: (x) => html`<strong>${x.name}</strong> <${ActiveBadge} active=${x.active} />` },
        { label: t('admin.when_event'), cell: (x) => t(EVENTS[x.event] || 'admin.ev_updated') },
        { label: t('admin.conditions'), cell: (x) => conditionsText(x.conditions || {}, calendars) },
        { label: t('admin.actions'), cell: (x) => actionsText(x.actions || {}, users, teams) },
        { label: '', cls: 'cell-actions', cell: (x) => html`<div class="row-actions">
          <${MoveButtons} index=${items.indexOf(x)} count=${items.length} onMove=${move} name=${x.name} busy=${busy} />
          <button class="btn btn-ghost btn-sm" type="button" disabled=${busy} data-action="toggle-active" onClick=${() => toggle(x)}>
            ${x.active ? t('admin.deactivate') : t('admin.activate')}</button>
          <button class="btn btn-secondary btn-sm" type="button" data-action="edit"
            onClick=${() => { setEditing(x); }}>${t('admin.edit')}</button>
          <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete" onClick=${() => remove(x)}>${t('admin.delete')}</button>
        </div>` },
      ]} />` : null}
    ${dialog}
  </div>`;
}
