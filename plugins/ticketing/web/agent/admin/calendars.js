// Business calendars (working hours and holidays in a time zone, for SLA clocks and out-of-hours triggers) and
// teams, each of which may have its own calendar. The server parses the hours and holidays text; its error is
// shown on the field it names.
import { useState } from 'preact/hooks';
import { Empty, ErrorAlert, F, FormActions, MoreButton, Section, Table, api, html, required, t, useConfirm, useForm,
  useList, useFocusOnMount, NewButton } from '@destek/agent';

let zones = null;
function timeZones() {
  if (!zones) {
    try {
      zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    } catch (e) {
      zones = [];
    }
  }
  return zones;
}

/* Working hours as people read them, in the admin's language: "mon-fri 09:00-18:00; sat 10:00-14:00" (or the
 * Turkish "pzt-cum ...", which the server takes too) becomes "Pazartesi–Cuma 09:00–18:00; Cumartesi 10:00–14:00". */
const DAY_WORDS = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, paz: 0, pzt: 1, sal: 2, 'çar': 3, car: 3, per: 4,
  cum: 5, cmt: 6 };
export function hoursText(text) {
  return String(text || '').replace(/her gün|daily|[a-zçA-ZÇ]{3}(?![a-zçşğüöı])/gi, (w) => {
    const k = w.toLocaleLowerCase('tr');
    if (k === 'daily' || k === 'her gün') return t('day.daily');
    return k in DAY_WORDS ? t('day.' + DAY_WORDS[k]) : w;
  }).replace(/(\d)-(\d)/g, '$1–$2').replace(/([^\d\s])-([^\d\s])/gu, '$1–$2');
}

/* Entries in a holidays text: lines (or ; , separated) that are not blank or # comments. */
export function holidayCount(text) {
  return String(text || '').split('\n').map((l) => l.replace(/#.*/, ''))
    .flatMap((l) => l.split(/[;,]/)).filter((s) => s.trim()).length;
}

function CalendarForm({ calendar, onSaved, onCancel }) {
  const initial = calendar
    ? { name: calendar.name, time_zone: calendar.time_zone, hours: calendar.hours, holidays: calendar.holidays || '',
      is_default: calendar.is_default }
    : { name: '', time_zone: 'Europe/Istanbul', hours: t('admin.hours_default'), holidays: '', is_default: false };
  useFocusOnMount(calendar ? 'edit-cal-name' : 'cal-name');
  const form = useForm(calendar ? 'edit-cal' : 'cal', initial, {
    fieldOf: (err) => (err.code === 'name_taken' ? 'name' : err.field),
    validate: (v) => required(v, ['name', 'time_zone', 'hours']),
  });
  const [day, setDay] = useState('');
  const addDay = () => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return;
    const text = form.values.holidays.replace(/\s+$/, '');
    form.set('holidays', (text ? text + '\n' : '') + day);
    setDay('');
  };
  const save = form.submit(async (v) => {
    const body = { name: v.name.trim(), time_zone: v.time_zone.trim(), hours: v.hours, holidays: v.holidays };
    if (!calendar || !calendar.is_default) body.is_default = v.is_default;
    const saved = calendar ? await api('PATCH', '/calendars/' + calendar.id, body) : await api('POST', '/calendars', body);
    if (!calendar) form.reset(initial);
    onSaved(saved);
  });
  return html`<${Section} title=${calendar ? t('admin.edit_calendar', { name: calendar.name }) : t('admin.new_calendar')} id=${form.id + '-title'}>
    <form class="form-grid" onSubmit=${save} data-form=${form.id} novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required />
      <${F} form=${form} name="time_zone" label=${t('admin.time_zone')} required list="tz-list" autocomplete="off"
        hint=${t('admin.time_zone_hint')} mono />
      <datalist id="tz-list">${timeZones().map((z) => html`<option value=${z} />`)}</datalist>
      <${F} form=${form} name="hours" type="textarea" rows="2" label=${t('admin.hours')} required wide mono
        hint=${t('admin.hours_hint')} />
      <p class="field-wide muted small" data-field="hours-read" aria-live="polite">${t('admin.hours_read', { hours: hoursText(form.values.hours) })}</p>
      <${F} form=${form} name="holidays" type="textarea" rows="6" label=${t('admin.holidays')} wide mono
        hint=${t('admin.holidays_hint')} />
      <div class="field-wide inline-form add-day">
        <label class="inline" for=${form.id + '-day'}><span>${t('admin.add_holiday')}</span></label>
        <input id=${form.id + '-day'} type="date" value=${day} onInput=${(e) => setDay(e.currentTarget.value)} />
        <button class="btn btn-secondary btn-sm" type="button" disabled=${!day} onClick=${addDay} data-action="add-day">${t('admin.add')}</button>
      </div>
      ${calendar && calendar.is_default ? html`<p class="field-wide small muted">${t('admin.is_default_note')}</p>`
        : html`<${F} form=${form} name="is_default" type="checkbox" label=${t('admin.make_default')} hint=${t('admin.make_default_hint')} />`}
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${calendar ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

function TeamRow({ team, calendars, onChanged, ask }) {
  const [renaming, setRenaming] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useForm('team-' + team.id, { name: team.name }, {
    fieldOf: (err) => (err.code === 'name_taken' ? 'name' : err.field), validate: (v) => required(v, ['name']),
  });
  const current = calendars.find((c) => (c.team_ids || []).includes(team.id));
  const setCalendar = async (value) => {
    setBusy(true);
    setError(null);
    try {
      await api('PUT', '/teams/' + team.id + '/calendar', { calendar_id: value ? Number(value) : null });
      await onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const rename = form.submit(async (v) => {
    await api('PATCH', '/teams/' + team.id, { name: v.name.trim() });
    setRenaming(false);
    await onChanged();
  });
  const remove = () => ask({ message: t('admin.confirm_team_delete', { name: team.name }),
    onConfirm: async () => { await api('DELETE', '/teams/' + team.id); await onChanged(); } });
  return html`<li class="team-row" data-team=${team.name}>
    ${renaming ? html`<form class="inline-form team-name" onSubmit=${rename} novalidate>
        <${F} form=${form} name="name" label=${t('admin.team_name')} />
        <${FormActions} form=${form} onCancel=${() => { setRenaming(false); form.reset({ name: team.name }); }} />
      </form>`
      : html`<div class="team-name"><strong>${team.name}</strong>
        <span class="muted small">${t('admin.open_tickets', { n: team.open_tickets || 0 })}</span></div>`}
    <label class="inline team-cal"><span>${t('admin.calendar')}</span>
      <select value=${current ? String(current.id) : ''} disabled=${busy} data-field="team-calendar"
        onChange=${(e) => setCalendar(e.currentTarget.value)}>
        <option value="">${t('admin.default_calendar')}</option>
        ${calendars.map((c) => html`<option value=${String(c.id)}>${c.name}</option>`)}
      </select></label>
    ${renaming ? null : html`<div class="row-actions">
      <button class="btn btn-ghost btn-sm" type="button" data-action="rename" onClick=${() => setRenaming(true)}>${t('admin.rename')}</button>
      <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete" onClick=${remove}>${t('admin.delete')}</button>
    </div>`}
    <${ErrorAlert} error=${error} />
  </li>`;
}

function Teams({ calendars, list, reloadCalendars }) {
  const [ask, dialog] = useConfirm();
  const form = useForm('team', { name: '' }, {
    fieldOf: (err) => (err.code === 'name_taken' ? 'name' : err.field), validate: (v) => required(v, ['name']),
  });
  const create = form.submit(async (v) => {
    await api('POST', '/teams', { name: v.name.trim() });
    form.reset({ name: '' });
    await list.reload();
  });
  const changed = async () => { await Promise.all([list.reload(), reloadCalendars()]); };
  const items = list.items || [];
  return html`<${Section} title=${t('admin.teams')} id="teams">
    <p class="muted small">${t('admin.teams_intro')}</p>
    <form class="inline-form new-team" onSubmit=${create} data-form="team" novalidate>
      <${F} form=${form} name="name" label=${t('admin.new_team')} required />
      <${FormActions} form=${form} label=${t('admin.add')} />
    </form>
    <${ErrorAlert} error=${list.error || form.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_teams')}<//>` : null}
    ${items.length ? html`<ul class="team-list">${items.map((tm) => html`<${TeamRow} key=${tm.id} team=${tm}
      calendars=${calendars} onChanged=${changed} ask=${ask} />`)}</ul>` : null}
    <${MoreButton} list=${list} />
    ${dialog}
  <//>`;
}

export function CalendarsScreen() {
  const list = useList('/calendars');
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  const teams = useList('/teams');
  const teamName = (id) => { const x = (teams.items || []).find((tm) => tm.id === id); return x ? x.name : '#' + id; };
  const remove = (c) => ask({ message: t('admin.confirm_calendar_delete', { name: c.name }),
    onConfirm: async () => { await api('DELETE', '/calendars/' + c.id); await list.reload(); } });
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.calendars_intro')}</p>
    ${editing === 'new' ? html`<${CalendarForm} key="new" onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : editing ? html`<${CalendarForm} key=${'e' + editing.id} calendar=${editing} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewButton} label=${t('admin.new_calendar')} onClick=${() => setEditing('new')} />`}
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_calendars')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_calendars')} items=${items}
      rowAttrs=${(c) => ({ 'data-calendar': c.name })}
      columns=${[
        { label: t('admin.f_name'), cell: (c) => html`<strong>${c.name}</strong>${c.is_default ? html` <span class="badge badge-on">${t('admin.default')}</span>` : null}` },
        { label: t('admin.time_zone'), cell: (c) => html`<code>${c.time_zone}</code>` },
        { label: t('admin.hours'), cell: (c) => html`<span class="break" data-field="hours" title=${c.hours}>${hoursText(c.hours)}</span>` },
        { label: t('admin.holidays'), cell: (c) => html`<span data-field="holidays">${t('admin.n_holidays', { n: holidayCount(c.holidays) })}</span>` },
        { label: t('admin.teams'), cell: (c) => ((c.team_ids || []).length ? c.team_ids.map(teamName).join(', ') : '—') },
        { label: '', cls: 'cell-actions', cell: (c) => html`<div class="row-actions">
          <button class="btn btn-secondary btn-sm" type="button" data-action="edit"
            onClick=${() => { setEditing(c); }}>${t('admin.edit')}</button>
          ${c.is_default ? null : html`<button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete"
            onClick=${() => remove(c)}>${t('admin.delete')}</button>`}
        </div>` },
      ]} />` : null}
    <${Teams} calendars=${items} list=${teams} reloadCalendars=${list.reload} />
    ${dialog}
  </div>`;
}
