// /app/admin/mailboxes: outgoing mail (the mail.smtp_* and mail.from* settings), the main mailbox (the mail.imap_*
// settings) and further mailboxes (/api/v1/mailboxes), each with a "test connection" button (/api/v1/mail/test)
// and what it last did (/api/v1/mail/status, reloaded every 15 s). Passwords are write-only: the server says
// whether one is set, an empty password field keeps it, and a test without a typed password uses the saved one.
// Each mailbox sends as itself (its From address and name, its own SMTP server when it has one; else the outgoing
// mail settings) and every server has its TLS choice: auto, STARTTLS (required), implicit TLS, or none (loopback
// only unless mail.allow_plaintext). A mailbox replaced on the server (a new UIDVALIDITY) shows in its status.
import { useEffect, useState } from 'preact/hooks';
import { Alert, SettingsForm, api, dateTime, errorText, html, t } from '@destek/agent';

const SMTP_KEYS = { url: 'mail.smtp_url', user: 'mail.smtp_user', password: 'mail.smtp_password', from: 'mail.from',
  from_name: 'mail.from_name', tls: 'mail.smtp_tls' };
const IMAP_KEYS = { url: 'mail.imap_url', user: 'mail.imap_user', password: 'mail.imap_password',
  poll_seconds: 'mail.poll_seconds', tls: 'mail.imap_tls' };
// The mail settings the cards above edit; the rest of mail.* is listed under them (SettingsForm): every mail
// setting is on this screen, none on the general settings screen.
const MANAGED = new Set([...Object.values(SMTP_KEYS), ...Object.values(IMAP_KEYS)]);
const TLS_MODES = { auto: 'mailboxes.tls_auto', starttls: 'mailboxes.tls_starttls', implicit: 'mailboxes.tls_implicit',
  none: 'mailboxes.tls_none' };

function TlsSelect({ name, value, onChange }) {
  return html`<label class="field-inline"><span>${t('mailboxes.f_tls')}</span>
    <select name=${name} value=${value || 'auto'} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${Object.entries(TLS_MODES).map(([m, key]) => html`<option value=${m}>${t(key)}</option>`)}
    </select></label>`;
}

function Input({ label, name, value, onInput, type, placeholder, required, autocomplete, min }) {
  return html`<label class="field-inline"><span>${label}</span>
    <input name=${name} type=${type || 'text'} value=${value == null ? '' : value} placeholder=${placeholder}
      required=${required} autocomplete=${autocomplete || 'off'} min=${min}
      onInput=${(e) => onInput(e.currentTarget.value)} /></label>`;
}

/* A connection test's answer: busy, ok with what the server told, or the error in its own words. */
function TestResult({ result }) {
  if (!result) return null;
  if (result.busy) return html`<p class="muted small" role="status" data-test-result="busy">${t('mailboxes.testing')}</p>`;
  if (!result.ok) {
    return html`<div class="alert alert-error" role="alert" data-test-result="fail">
      <strong>${t('mailboxes.test_failed')}</strong> <span class="break">${result.error}</span></div>`;
  }
  const parts = [];
  if (result.kind === 'imap') {
    parts.push(t('mailboxes.test_imap_detail', { mailbox: result.mailbox, messages: result.messages,
      unseen: result.unseen == null ? '?' : result.unseen }));
  }
  if (result.sent_to) parts.push(t('mailboxes.test_sent', { to: result.sent_to }));
  parts.push(result.tls ? t('mailboxes.tls_on') : t('mailboxes.tls_off'));
  if (result.auth) parts.push(t('mailboxes.auth_on'));
  return html`<div class="alert alert-info" role="status" data-test-result="ok">
    <strong>${t('mailboxes.test_ok')}</strong> <span class="break">${parts.join(' · ')}</span></div>`;
}

function useTest() {
  const [result, setResult] = useState(null);
  const run = async (body) => {
    setResult({ busy: true });
    try {
      setResult(await api('POST', '/mail/test', body));
    } catch (err) {
      setResult({ ok: false, error: errorText(err) });
    }
  };
  return [result, run, setResult];
}

/* What a channel last did: "Last poll: 5 Mar 14:02 · OK · 12 filed", or its last error. */
function StatusLine({ status, smtp }) {
  if (!status) return null;
  const when = smtp ? status.last_send_at : status.last_poll_at;
  if (!when) return html`<p class="muted small" data-status="never">${smtp ? t('mailboxes.never_sent') : t('mailboxes.never_polled')}</p>`;
  const count = smtp ? t('mailboxes.sent_count', { n: status.messages_sent })
    : t('mailboxes.filed_count', { n: status.messages_filed });
  return html`<div class="small mbx-status" data-status=${status.ok ? 'ok' : 'error'}>
    <p class="muted">${(smtp ? t('mailboxes.last_send') : t('mailboxes.last_poll')) + ': ' + dateTime(when) + ' · '}<span
      class=${status.ok ? 'mbx-ok' : 'mbx-bad'}>${status.ok ? t('mailboxes.state_ok') : t('mailboxes.state_error')}</span>${' · ' + count}</p>
    ${status.uidvalidity_changed_at ? html`<p class="muted" data-status="uidvalidity">${t(status.resyncing
      ? 'mailboxes.uidvalidity_resyncing' : 'mailboxes.uidvalidity_changed', { when: dateTime(status.uidvalidity_changed_at),
        old: status.uidvalidity_previous, now: status.uidvalidity })}</p>` : null}
    ${status.last_error ? html`<p class=${status.ok ? 'muted' : 'mbx-bad'}>${(status.ok ? t('mailboxes.earlier_error')
      : t('mailboxes.last_error')) + (status.last_error_at ? ' (' + dateTime(status.last_error_at) + ')' : '') + ': '}<span
      class="break">${status.last_error}</span></p>` : null}
  </div>`;
}

/* The form of one group of settings (outgoing mail, or the main mailbox). */
function SettingsCard({ kind, settings, status, onSaved }) {
  const keys = kind === 'smtp' ? SMTP_KEYS : IMAP_KEYS;
  const initial = () => Object.fromEntries(Object.keys(keys).map((k) => [k, k === 'password' ? ''
    : settings[keys[k]] && settings[keys[k]].value != null ? String(settings[keys[k]].value) : '']));
  const [f, setF] = useState(initial);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [sendTo, setSendTo] = useState('');
  const [result, runTest] = useTest();
  useEffect(() => { setF(initial()); }, [settings]);
  const passwordSet = settings[keys.password] && settings[keys.password].set;
  const set = (k) => (v) => { setSaved(false); setF({ ...f, [k]: v }); };

  const save = async (e) => {
    e.preventDefault();
    const body = {};
    for (const k of Object.keys(keys)) {
      if (k === 'password') { if (f.password) body[keys.password] = f.password; continue; }
      body[keys[k]] = k === 'poll_seconds' ? Number(f[k]) : k === 'tls' ? (f.tls || 'auto') : f[k].trim();
    }
    try {
      await api('PATCH', '/settings', body);
      setError(null);
      setF({ ...f, password: '' });   /* the saved secret is never shown again */
      await onSaved();   /* "saved" once the card shows what was saved (the password's "set"), not before */
      setSaved(true);
    } catch (err) { setError(err); }
  };
  const removePassword = async () => {
    try { await api('PATCH', '/settings', { [keys.password]: null }); onSaved(); } catch (err) { setError(err); }
  };
  const test = (extra) => {
    const body = { kind, url: f.url.trim(), user: f.user.trim(), tls: f.tls || 'auto', ...extra };
    if (f.password) body.password = f.password;
    runTest(body);
  };
  const sendTest = (e) => {
    e.preventDefault();
    test({ send_to: sendTo.trim(), ...(f.from.trim() ? { from: f.from.trim() } : {}) });
  };

  const smtp = kind === 'smtp';
  return html`<section class="card mbx-card" data-card=${kind}>
    <h2 class="h3">${smtp ? t('mailboxes.smtp_title') : t('mailboxes.imap_title')}</h2>
    <p class="muted small">${smtp ? t('mailboxes.smtp_hint') : t('mailboxes.imap_hint')}</p>
    ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${saved ? html`<${Alert} kind="info">${t('admin.saved')}<//>` : null}
    <form class="mbx-form" onSubmit=${save} data-form=${kind}>
      <div class="mbx-grid">
        <${Input} label=${t('mailboxes.f_url')} name=${kind + '-url'} value=${f.url} onInput=${set('url')}
          placeholder=${smtp ? 'smtps://mail.example.com:465' : 'imaps://mail.example.com/INBOX'} />
        <${Input} label=${t('mailboxes.f_user')} name=${kind + '-user'} value=${f.user} onInput=${set('user')} />
        <${Input} label=${t('mailboxes.f_password')} name=${kind + '-password'} type="password" value=${f.password}
          onInput=${set('password')} autocomplete="new-password"
          placeholder=${passwordSet ? t('admin.secret_set') : t('admin.secret_unset')} />
        ${smtp ? html`
          <${Input} label=${t('mailboxes.f_from')} name="smtp-from" type="email" value=${f.from} onInput=${set('from')}
            placeholder="destek@magaza.example" />
          <${Input} label=${t('mailboxes.f_from_name')} name="smtp-from-name" value=${f.from_name} onInput=${set('from_name')} />`
        : html`<${Input} label=${t('mailboxes.f_poll')} name="imap-poll" type="number" min="0" value=${f.poll_seconds}
            onInput=${set('poll_seconds')} />`}
        <${TlsSelect} name=${kind + '-tls'} value=${f.tls} onChange=${set('tls')} />
      </div>
      <div class="mbx-actions">
        <button class="btn btn-primary btn-sm" type="submit">${t('admin.save')}</button>
        <button class="btn btn-secondary btn-sm" type="button" data-action="test" disabled=${result && result.busy}
          onClick=${() => test({})}>${t('mailboxes.test')}</button>
        ${passwordSet ? html`<button class="btn btn-ghost btn-sm" type="button" onClick=${removePassword}>
          ${t('mailboxes.remove_password')}</button>` : null}
      </div>
    </form>
    ${smtp ? html`<form class="mbx-actions mbx-send" onSubmit=${sendTest}>
      <${Input} label=${t('mailboxes.send_to')} name="smtp-send-to" type="email" value=${sendTo} onInput=${setSendTo} required />
      <button class="btn btn-secondary btn-sm" type="submit" disabled=${result && result.busy}>${t('mailboxes.send_test')}</button>
    </form>` : null}
    <${TestResult} result=${result} />
    <${StatusLine} status=${status} smtp=${smtp} />
  </section>`;
}

const emptyBox = { name: '', imap_url: '', imap_user: '', imap_password: '', poll_seconds: '60', active: true,
  team_id: '', tags: '', imap_tls: 'auto', from_address: '', from_name: '', smtp_url: '', smtp_user: '', smtp_password: '',
  smtp_tls: 'auto' };

/* Create or edit a saved mailbox; its "test connection" tries what is typed (the saved password when none is). */
function MailboxForm({ box, teams, onDone, onCancel }) {
  const [f, setF] = useState(box ? { ...emptyBox, ...box, imap_password: '', smtp_password: '', poll_seconds: String(box.poll_seconds),
    team_id: box.team_id == null ? '' : String(box.team_id), tags: (box.tags || []).join(', ') } : emptyBox);
  const [error, setError] = useState(null);
  const [result, runTest] = useTest();
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const submit = async (e) => {
    e.preventDefault();
    const body = { name: f.name.trim(), imap_url: f.imap_url.trim(), imap_user: f.imap_user.trim(),
      poll_seconds: Number(f.poll_seconds), active: f.active, team_id: f.team_id ? Number(f.team_id) : null,
      tags: f.tags.split(',').map((s) => s.trim()).filter(Boolean), imap_tls: f.imap_tls,
      from_address: f.from_address.trim(), from_name: f.from_name.trim(), smtp_url: f.smtp_url.trim(),
      smtp_user: f.smtp_user.trim(), smtp_tls: f.smtp_tls };
    if (f.imap_password) body.imap_password = f.imap_password;
    if (f.smtp_password) body.smtp_password = f.smtp_password;
    try {
      await api(box ? 'PATCH' : 'POST', box ? '/mailboxes/' + box.id : '/mailboxes', body);
      onDone();
    } catch (err) { setError(err); }
  };
  const test = () => {
    const body = { kind: 'imap', url: f.imap_url.trim(), user: f.imap_user.trim(), tls: f.imap_tls };
    /* An edited mailbox without a typed password tests its saved one; a new one has none to fall back to. */
    if (box) body.mailbox_id = box.id;
    if (f.imap_password || !box) body.password = f.imap_password;
    runTest(body);
  };
  return html`<form class="mbx-form" onSubmit=${submit} data-form=${box ? 'mailbox-' + box.id : 'mailbox-new'}>
    ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    <div class="mbx-grid">
      <${Input} label=${t('mailboxes.f_name')} name="box-name" value=${f.name} onInput=${set('name')} required
        placeholder=${t('mailboxes.name_example')} />
      <${Input} label=${t('mailboxes.f_url')} name="box-url" value=${f.imap_url} onInput=${set('imap_url')} required
        placeholder="imaps://mail.example.com/INBOX" />
      <${Input} label=${t('mailboxes.f_user')} name="box-user" value=${f.imap_user} onInput=${set('imap_user')} />
      <${Input} label=${t('mailboxes.f_password')} name="box-password" type="password" value=${f.imap_password}
        onInput=${set('imap_password')} autocomplete="new-password"
        placeholder=${box && box.imap_password_set ? t('admin.secret_set') : t('admin.secret_unset')} />
      <${Input} label=${t('mailboxes.f_poll')} name="box-poll" type="number" min="1" value=${f.poll_seconds}
        onInput=${set('poll_seconds')} required />
      <label class="field-inline"><span>${t('mailboxes.f_team')}</span>
        <select name="box-team" value=${f.team_id} onChange=${(e) => set('team_id')(e.currentTarget.value)}>
          <option value="">${t('mailboxes.no_team')}</option>
          ${teams.map((tm) => html`<option value=${String(tm.id)}>${tm.name}</option>`)}
        </select></label>
      <${Input} label=${t('mailboxes.f_tags')} name="box-tags" value=${f.tags} onInput=${set('tags')}
        placeholder="kargo, vip" />
      <${TlsSelect} name="box-imap-tls" value=${f.imap_tls} onChange=${set('imap_tls')} />
      <label class="mbx-check"><input type="checkbox" name="box-active" checked=${f.active}
        onChange=${(e) => set('active')(e.currentTarget.checked)} /> ${t('mailboxes.f_active')}</label>
    </div>
    <h4 class="h4 mbx-sub">${t('mailboxes.sending_title')}</h4>
    <p class="muted small">${t('mailboxes.sending_hint')}</p>
    <div class="mbx-grid">
      <${Input} label=${t('mailboxes.f_from')} name="box-from" type="email" value=${f.from_address}
        onInput=${set('from_address')} placeholder="kargo@magaza.example" />
      <${Input} label=${t('mailboxes.f_from_name')} name="box-from-name" value=${f.from_name} onInput=${set('from_name')} />
      <${Input} label=${t('mailboxes.f_smtp_url')} name="box-smtp-url" value=${f.smtp_url} onInput=${set('smtp_url')}
        placeholder=${t('mailboxes.smtp_default')} />
      <${Input} label=${t('mailboxes.f_user')} name="box-smtp-user" value=${f.smtp_user} onInput=${set('smtp_user')} />
      <${Input} label=${t('mailboxes.f_password')} name="box-smtp-password" type="password" value=${f.smtp_password}
        onInput=${set('smtp_password')} autocomplete="new-password"
        placeholder=${box && box.smtp_password_set ? t('admin.secret_set') : t('admin.secret_unset')} />
      <${TlsSelect} name="box-smtp-tls" value=${f.smtp_tls} onChange=${set('smtp_tls')} />
    </div>
    <div class="mbx-actions">
      <button class="btn btn-primary btn-sm" type="submit">${box ? t('admin.save') : t('admin.create')}</button>
      <button class="btn btn-secondary btn-sm" type="button" data-action="test" disabled=${result && result.busy}
        onClick=${test}>${t('mailboxes.test')}</button>
      <button class="btn btn-ghost btn-sm" type="button" onClick=${onCancel}>${t('mailboxes.cancel')}</button>
    </div>
    <${TestResult} result=${result} />
  </form>`;
}

/* The mailbox's signature, added under agents' replies on its tickets (after the agent's own); {{agent.name}} and the
 * other template variables expand. */
function MailboxSignature({ box }) {
  const [text, setText] = useState(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState(null);
  const [isOpen, setOpen] = useState(false);   // the form is made only while open: the card's own form stays the only one
  const open = (e) => {
    setOpen(e.currentTarget.open);
    if (e.currentTarget.open && text === null) api('GET', '/mailboxes/' + box.id + '/signature').then((d) => setText(d.text || ''), setError);
  };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try { await api('PUT', '/mailboxes/' + box.id + '/signature', { text }); setSaved(true); } catch (err) { setError(err); }
  };
  return html`<details class="mbx-signature" data-region="mailbox-signature" onToggle=${open}>
    <summary>${t('mailboxes.signature')}</summary>
    ${text === null || !isOpen ? null : html`<form onSubmit=${save}>
      <textarea rows="3" data-field="mailbox-signature" aria-label=${t('mailboxes.signature')} value=${text}
        onInput=${(e) => { setText(e.currentTarget.value); setSaved(false); }}></textarea>
      <p class="field-hint">${t('mailboxes.signature_hint')}</p>
      ${error ? html`<p class="field-error" role="alert">${errorText(error)}</p>` : null}
      <button class="btn btn-secondary btn-sm" type="submit" data-action="save-mailbox-signature">${t('admin.save')}</button>
      ${saved ? html`<span class="muted small" role="status"> ${t('mailboxes.signature_saved')}</span>` : null}
    </form>`}
  </details>`;
}

function MailboxCard({ box, status, teams, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const [result, runTest] = useTest();
  const team = teams.find((tm) => tm.id === box.team_id);
  const remove = async () => {
    try { await api('DELETE', '/mailboxes/' + box.id); onChanged(); } catch (err) { setError(err); }
  };
  return html`<section class="card mbx-card" data-mailbox=${box.name}>
    <div class="row-between">
      <div class="mbx-head">
        <h3 class="h3">${box.name}</h3>
        <p class="muted small break">${box.imap_url}${box.imap_user ? ' · ' + box.imap_user : ''}</p>
        <p class="muted small break" data-field="sender">${t('mailboxes.sends_as', { from: box.from_address
          ? (box.from_name ? box.from_name + ' <' + box.from_address + '>' : box.from_address) : t('mailboxes.default_sender') })}</p>
        <p class="mbx-badges">
          <span class="badge">${box.active ? t('admin.active') : t('mailboxes.paused')}</span>
          <span class="badge">${t('mailboxes.every', { n: box.poll_seconds })}</span>
          ${team ? html`<span class="badge">${t('mailboxes.team', { name: team.name })}</span>` : null}
          ${(box.tags || []).map((tag) => html`<span class="tag">${tag}</span>`)}
        </p>
      </div>
      ${editing ? null : html`<div class="mbx-actions">
        <button class="btn btn-secondary btn-sm" type="button" data-action="test" disabled=${result && result.busy}
          onClick=${() => runTest({ kind: 'imap', mailbox_id: box.id })}>${t('mailboxes.test')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="edit" onClick=${() => setEditing(true)}>
          ${t('mailboxes.edit')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="delete" onClick=${() => setConfirming(true)}>
          ${t('admin.delete')}</button>
      </div>`}
    </div>
    ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${confirming ? html`<div class="alert alert-warning" role="alert">
      <p>${t('mailboxes.delete_confirm', { name: box.name })}</p>
      <div class="mbx-actions">
        <button class="btn btn-primary btn-sm" type="button" data-action="confirm-delete" onClick=${remove}>${t('admin.delete')}</button>
        <button class="btn btn-ghost btn-sm" type="button" onClick=${() => setConfirming(false)}>${t('mailboxes.cancel')}</button>
      </div></div>` : null}
    ${editing ? html`<${MailboxForm} box=${box} teams=${teams} onCancel=${() => setEditing(false)}
      onDone=${() => { setEditing(false); onChanged(); }} />` : html`<${TestResult} result=${result} />`}
    <${MailboxSignature} box=${box} />
    <${StatusLine} status=${status} />
  </section>`;
}

export function Mailboxes() {
  const [settings, setSettings] = useState(null);
  const [boxes, setBoxes] = useState(null);
  const [status, setStatus] = useState(null);
  const [teams, setTeams] = useState([]);
  const [error, setError] = useState(null);
  const [adding, setAdding] = useState(false);
  const loadStatus = () => api('GET', '/mail/status').then(setStatus, () => {});
  const loadSettings = () => api('GET', '/settings').then((d) => {
    setSettings(Object.fromEntries((d.items || []).map((s) => [s.name, s])));
  }, setError);
  const loadBoxes = () => api('GET', '/mailboxes').then((d) => setBoxes(d.items || []), setError);
  const reload = () => { loadBoxes(); loadStatus(); };
  useEffect(() => {
    loadSettings();
    loadBoxes();
    loadStatus();
    api('GET', '/teams?limit=200').then((d) => setTeams(d.items || []), () => {});
    const timer = setInterval(loadStatus, 15000);
    return () => clearInterval(timer);
  }, []);
  const boxStatus = (id) => status && status.mailboxes.find((s) => s.id === id);
  return html`<div class="mbx">
    ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
    ${settings ? html`
      <${SettingsCard} kind="smtp" settings=${settings} status=${status && status.smtp}
        onSaved=${() => Promise.all([loadSettings(), loadStatus()])} />
      <${SettingsCard} kind="imap" settings=${settings} status=${status && status.imap}
        onSaved=${() => Promise.all([loadSettings(), loadStatus()])} />` : null}
    <div class="row-between mbx-list-head">
      <div><h2 class="h3">${t('mailboxes.more_title')}</h2>
        <p class="muted small">${t('mailboxes.more_hint')}</p></div>
      ${adding ? null : html`<button class="btn btn-primary btn-sm" type="button" data-action="add"
        onClick=${() => setAdding(true)}>${t('mailboxes.add')}</button>`}
    </div>
    ${adding ? html`<section class="card mbx-card"><h3 class="h3">${t('mailboxes.new')}</h3>
      <${MailboxForm} teams=${teams} onCancel=${() => setAdding(false)}
        onDone=${() => { setAdding(false); reload(); }} /></section>` : null}
    ${boxes && !boxes.length && !adding ? html`<p class="muted small" data-empty="mailboxes">${t('mailboxes.none')}</p>` : null}
    ${(boxes || []).map((box) => html`<${MailboxCard} key=${box.id} box=${box} status=${boxStatus(box.id) || box.status} teams=${teams}
      onChanged=${reload} />`)}
    <details class="mbx-more" data-region="mail-more-settings">
      <summary class="h3">${t('mailboxes.more_settings')}</summary>
      <${SettingsForm} only=${(x) => /^mail\./.test(x.name) && !MANAGED.has(x.name)} />
    </details>
  </div>`;
}
