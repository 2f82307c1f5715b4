// SLA policies: the first active policy, in position order, whose conditions (priority, channel, tag) all match a
// ticket gives it its targets — first response and resolution in business minutes of a calendar (the policy's,
// else the ticket team's, else the default). Create, edit, reorder, delete.
import { useState } from 'preact/hooks';
import { CHANNELS, PRIORITIES } from '../tickets.js';
import { ActiveBadge, Empty, ErrorAlert, F, FormActions, MoveButtons, Section, Table, api, hoursMinutes, html, reorder,
  required, t, useConfirm, useForm, useList, useFocusOnMount, NewButton } from '@destek/agent';

const FIELD_OF = { first_response_minutes: 'frt_h', resolution_minutes: 'res_h' };

const split = (minutes) => (minutes == null ? ['', ''] : [String(Math.floor(minutes / 60)), String(minutes % 60)]);

/* "" -> 0, "12" -> 12, anything else -> NaN */
const whole = (s) => (String(s).trim() === '' ? 0 : /^\d+$/.test(String(s).trim()) ? parseInt(s, 10) : NaN);

function toMinutes(h, m) {
  const hh = whole(h), mm = whole(m);
  if (Number.isNaN(hh) || Number.isNaN(mm)) return NaN;
  return hh * 60 + mm || null;
}

function PolicyForm({ policy, calendars, onSaved, onCancel }) {
  const [fh, fm] = split(policy && policy.first_response_minutes);
  const [rh, rm] = split(policy && policy.resolution_minutes);
  const initial = {
    name: policy ? policy.name : '', priority: (policy && policy.priority) || '', channel: (policy && policy.channel) || '',
    tag: (policy && policy.tag) || '', frt_h: fh, frt_m: fm, res_h: rh, res_m: rm,
    warn_percent: String(policy ? policy.warn_percent : 80), pause_on_hold: policy ? policy.pause_on_hold : false,
    calendar_id: policy && policy.calendar_id ? String(policy.calendar_id) : '', active: policy ? policy.active : true,
  };
  useFocusOnMount(policy ? 'edit-sla-name' : 'sla-name');
  const form = useForm(policy ? 'edit-sla' : 'sla', initial, {
    fieldOf: (err) => FIELD_OF[err.field] || err.field,
    validate: (v) => {
      const e = required(v, ['name']);
      const frt = toMinutes(v.frt_h, v.frt_m), res = toMinutes(v.res_h, v.res_m);
      if (Number.isNaN(frt)) e.frt_h = t('admin.whole_number');
      if (Number.isNaN(res)) e.res_h = t('admin.whole_number');
      if (!e.frt_h && !e.res_h && !frt && !res) e.frt_h = t('admin.need_target');
      const w = whole(v.warn_percent);
      if (Number.isNaN(w) || w > 100) e.warn_percent = t('admin.percent');
      return e;
    },
  });
  const save = form.submit(async (v) => {
    const body = {
      name: v.name.trim(), priority: v.priority || null, channel: v.channel || null, tag: v.tag.trim() || null,
      first_response_minutes: toMinutes(v.frt_h, v.frt_m), resolution_minutes: toMinutes(v.res_h, v.res_m),
      warn_percent: whole(v.warn_percent), pause_on_hold: v.pause_on_hold,
      calendar_id: v.calendar_id ? Number(v.calendar_id) : null, active: v.active,
    };
    const saved = policy ? await api('PATCH', '/sla-policies/' + policy.id, body) : await api('POST', '/sla-policies', body);
    if (!policy) form.reset(initial);
    onSaved(saved);
  });
  const any = [['', t('admin.any')]];
  const target = (prefix, label) => html`<fieldset class=${'field target' + (form.errors[prefix + '_h'] ? ' field-invalid' : '')}>
    <legend>${label}</legend>
    <div class="hm">
      <label><input id=${form.id + '-' + prefix + '_h'} name=${form.id + '-' + prefix + '_h'} type="number" min="0" step="1"
        inputmode="numeric" value=${form.values[prefix + '_h']} aria-invalid=${form.errors[prefix + '_h'] ? 'true' : 'false'}
        aria-describedby=${form.errors[prefix + '_h'] ? form.id + '-' + prefix + '-error' : undefined}
        onInput=${(e) => form.set(prefix + '_h', e.currentTarget.value)} /> <span>${t('admin.unit_hours')}</span></label>
      <label><input id=${form.id + '-' + prefix + '_m'} name=${form.id + '-' + prefix + '_m'} type="number" min="0" max="59" step="1"
        inputmode="numeric" value=${form.values[prefix + '_m']}
        onInput=${(e) => form.set(prefix + '_m', e.currentTarget.value)} /> <span>${t('admin.unit_minutes')}</span></label>
    </div>
    ${form.errors[prefix + '_h'] ? html`<p class="field-error" id=${form.id + '-' + prefix + '-error'} data-error-for=${prefix}>${form.errors[prefix + '_h']}</p>`
      : html`<p class="field-hint">${t('admin.business_time')}</p>`}
  </fieldset>`;
  return html`<${Section} title=${policy ? t('admin.edit_sla', { name: policy.name }) : t('admin.new_sla')} id=${form.id + '-title'}>
    <form class="form-grid" onSubmit=${save} data-form=${form.id} novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required wide />
      <p class="field-wide small muted">${t('admin.sla_conditions')}</p>
      <${F} form=${form} name="priority" type="select" label=${t('admin.priority')}
        options=${[...any, ...PRIORITIES.map((p) => [p, t('priority.' + p)])]} />
      <${F} form=${form} name="channel" type="select" label=${t('admin.channel')}
        options=${[...any, ...CHANNELS.map((c) => [c, t('channel.' + c)])]} />
      <${F} form=${form} name="tag" label=${t('admin.tag')} placeholder=${t('admin.any')} />
      ${target('frt', t('admin.first_response'))}
      ${target('res', t('admin.resolution'))}
      <${F} form=${form} name="warn_percent" type="number" min="0" max="100" label=${t('admin.warn_percent')}
        hint=${t('admin.warn_percent_hint')} />
      <${F} form=${form} name="calendar_id" type="select" label=${t('admin.calendar')}
        options=${[['', t('admin.team_calendar')], ...calendars.map((c) => [String(c.id), c.name + (c.is_default ? ' (' + t('admin.default') + ')' : '')])]} />
      <${F} form=${form} name="pause_on_hold" type="checkbox" label=${t('admin.pause_on_hold')} hint=${t('admin.pause_on_hold_hint')} />
      <${F} form=${form} name="active" type="checkbox" label=${t('admin.policy_active')} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${policy ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

function conditionsText(p) {
  const parts = [];
  if (p.priority) parts.push(t('priority.' + p.priority));
  if (p.channel) parts.push(t('channel.' + p.channel));
  if (p.tag) parts.push('#' + p.tag);
  return parts.length ? parts.join(' · ') : t('admin.every_ticket');
}

export function SlaScreen() {
  const list = useList('/sla-policies');
  const cals = useList('/calendars');
  const [editing, setEditing] = useState(null);
  const [busy, setBusy] = useState(false);
  const [ask, dialog] = useConfirm();
  const calendars = cals.items || [];
  const calName = (id) => {
    if (!id) return t('admin.team_calendar');
    const c = calendars.find((x) => x.id === id);
    return c ? c.name : '#' + id;
  };
  const items = list.items || [];
  const move = async (i, delta) => {
    setBusy(true);
    try {
      await reorder(items, i, delta, (p) => '/sla-policies/' + p.id);
    } catch (e) {
      list.setError(e);
    } finally {
      await list.reload();
      setBusy(false);
    }
  };
  const remove = (p) => ask({ message: t('admin.confirm_sla_delete', { name: p.name }),
    onConfirm: async () => { await api('DELETE', '/sla-policies/' + p.id); await list.reload(); } });
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.sla_intro')}</p>
    ${editing === 'new' ? html`<${PolicyForm} key="new" calendars=${calendars} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : editing ? html`<${PolicyForm} key=${'e' + editing.id} policy=${editing} calendars=${calendars}
      onCancel=${() => setEditing(null)} onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewButton} label=${t('admin.new_sla')} onClick=${() => setEditing('new')} />`}
    <${ErrorAlert} error=${list.error || cals.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_sla')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_sla')} items=${items}
      rowAttrs=${(p) => ({ 'data-policy': p.name })}
      columns=${[
        { label: t('admin.order'), cls: 'cell-order', cell: (p) => html`<span class="muted">${items.indexOf(p) + 1}</span>` },
        { label: t('admin.f_name'), cell: (p) => html`<strong>${p.name}</strong> <${ActiveBadge} active=${p.active} />` },
        { label: t('admin.conditions'), cell: (p) => conditionsText(p) },
        { label: t('admin.first_response'), cell: (p) => html`<span data-field="frt">${hoursMinutes(p.first_response_minutes)}</span>` },
        { label: t('admin.resolution'), cell: (p) => html`<span data-field="res">${hoursMinutes(p.resolution_minutes)}</span>` },
        { label: t('admin.warn_short'), cell: (p) => t('admin.pct', { n: p.warn_percent }) },
        { label: t('admin.on_hold'), cell: (p) => (p.pause_on_hold ? t('admin.pauses') : t('admin.runs')) },
        { label: t('admin.calendar'), cell: (p) => calName(p.calendar_id) },
        { label: '', cls: 'cell-actions', cell: (p) => html`<div class="row-actions">
          <${MoveButtons} index=${items.indexOf(p)} count=${items.length} onMove=${move} name=${p.name} busy=${busy} />
          <button class="btn btn-secondary btn-sm" type="button" data-action="edit"
            onClick=${() => { setEditing(p); }}>${t('admin.edit')}</button>
          <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete" onClick=${() => remove(p)}>${t('admin.delete')}</button>
        </div>` },
      ]} />` : null}
    ${dialog}
  </div>`;
}
