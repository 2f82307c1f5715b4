// Admin → Teams: each team's members (any active colleague, from the directory, with who is online now), and how it
// hands out tickets that come to it without an agent: round-robin among its online members, optionally skipping
// those who already hold max_open open tickets. Teams are created, renamed and given a calendar on the calendars
// screen too; this one is about people. API: GET/POST/PATCH /teams, PUT /teams/{id}/members.
import { useEffect, useState } from 'preact/hooks';
import { Empty, ErrorAlert, F, FormActions, MoreButton, OnlineDot, Section, api, html, required, resetDirectory, t,
  useDirectory, useForm, useList } from '@destek/agent';

function TeamCard({ team, people, onChanged }) {
  const [members, setMembers] = useState(new Set(team.members.map((m) => m.id)));
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useForm('team-rr-' + team.id, { round_robin: !!team.round_robin, max_open: team.max_open == null ? '' : String(team.max_open) }, {
    validate: (v) => (v.max_open !== '' && !/^[1-9][0-9]{0,4}$/.test(String(v.max_open).trim()) ? { max_open: t('admin.team_max_open_bad') } : null),
  });
  useEffect(() => { setMembers(new Set(team.members.map((m) => m.id))); }, [team]);
  const toggle = (id) => setMembers((prev) => {
    const s = new Set(prev);
    if (s.has(id)) s.delete(id); else s.add(id);
    return s;
  });
  const save = form.submit(async (v) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await api('PUT', '/teams/' + team.id + '/members', { user_ids: [...members] });
      const max = String(v.max_open).trim();
      await api('PATCH', '/teams/' + team.id, { round_robin: !!v.round_robin, max_open: max === '' ? null : Number(max) });
      resetDirectory();   // the directory's teams changed
      setSaved(true);
      await onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  });
  // Active colleagues, and anyone inactive still listed as a member (so that they can be taken off).
  const shown = people.filter((p) => p.active !== false || members.has(p.id)).sort((a, b) => a.name.localeCompare(b.name, 'tr'));
  return html`<${Section} title=${team.name} id=${'team-' + team.id}>
    <form class="team-card" data-team=${team.name} onSubmit=${save} novalidate>
      <fieldset class="team-members">
        <legend>${t('admin.team_members', { n: members.size })}</legend>
        ${shown.length ? html`<ul class="member-list">${shown.map((p) => html`<li key=${p.id}>
          <label data-member=${p.name}><input type="checkbox" checked=${members.has(p.id)} onChange=${() => toggle(p.id)} />
            <${OnlineDot} person=${p} /> <span>${p.name}</span>
            <span class="muted small">${p.role === 'admin' ? t('admin.team_role_admin') : ''}${p.active === false ? ' ' + t('admin.team_inactive') : ''}</span>
          </label></li>`)}</ul>` : html`<p class="muted small">${t('common.loading')}</p>`}
      </fieldset>
      <${F} form=${form} name="round_robin" type="checkbox" label=${t('admin.team_round_robin')} hint=${t('admin.team_round_robin_hint')} />
      <${F} form=${form} name="max_open" type="number" min="1" max="99999" label=${t('admin.team_max_open')} hint=${t('admin.team_max_open_hint')} />
      <${ErrorAlert} error=${error || form.error} />
      ${saved ? html`<p class="small muted" role="status" data-region="team-saved">${t('admin.team_saved')}</p>` : null}
      <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${busy} data-action="save-team">${t('admin.save')}</button></div>
    </form>
  <//>`;
}

export function TeamsScreen() {
  const list = useList('/teams');
  const people = useDirectory();
  const form = useForm('new-team', { name: '' }, {
    fieldOf: (err) => (err.code === 'name_taken' ? 'name' : err.field), validate: (v) => required(v, ['name']),
  });
  const create = form.submit(async (v) => {
    await api('POST', '/teams', { name: v.name.trim() });
    form.reset({ name: '' });
    await list.reload();
  });
  const items = list.items || [];
  return html`<div class="admin-screen teams-screen">
    <p class="muted screen-intro">${t('admin.teams_screen_intro')}</p>
    <form class="inline-form new-team" onSubmit=${create} data-form="new-team" novalidate>
      <${F} form=${form} name="name" label=${t('admin.new_team')} required />
      <${FormActions} form=${form} label=${t('admin.add')} />
    </form>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_teams')}<//>` : null}
    ${items.map((tm) => html`<${TeamCard} key=${tm.id} team=${tm} people=${people} onChanged=${list.reload} />`)}
    <${MoreButton} list=${list} />
  </div>`;
}
