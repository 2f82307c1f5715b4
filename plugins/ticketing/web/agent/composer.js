// The composer of a ticket: reply to the customer or internal note, files (picker, drag and drop, pasted
// images), "send and set status", macros searchable by name, and a draft kept per ticket. On a ticket that other
// customers' tickets were merged into, a reply (or a macro's) is for one of them, picked here (to_customer_id).
//
// Drafts: the text, the kind and the chosen status are kept in sessionStorage ("destek.draft.<ticket id>"), so
// they survive leaving the ticket and coming back, and a reload. Files are uploaded to the server as soon as they
// are added (POST /tickets/{id}/draft/files, one file per request as base64 JSON) and kept there with the agent's
// draft, so they survive a reload and a sign-out (GET /tickets/{id}/draft lists them); sending names them
// (draft_files: [ids]) and they become the message's attachments without a second upload. "Discard draft" deletes
// them (DELETE /tickets/{id}/draft); the server deletes drafts' files untouched for 30 days.
//
// At most 10 files per message, each at most ticketing.attachment_max_bytes (10 MiB unless an admin changed it) —
// checked here first, so that the agent learns before the upload which file is too large.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Slot, api, bytes, errorText, html, personName, store, t } from '@destek/agent';

const MAX_FILES = 10;
const DEFAULT_FILE_MAX = 10 * 1024 * 1024;
const BODY_MAX = 100000;                  // bytes, as the server counts
const SEND_STATUSES = ['open', 'pending', 'on_hold', 'solved'];
const STATUS_KEYS = { open: 'status.open', pending: 'status.pending', on_hold: 'status.on_hold', solved: 'status.solved' };

/* ---- the per-ticket draft ---------------------------------------------------------------------------------- */
const draftKey = (ticketId) => 'destek.draft.' + ticketId;

function loadDraft(ticketId) {
  try {
    const d = JSON.parse(sessionStorage.getItem(draftKey(ticketId)) || 'null');
    if (d && typeof d.body === 'string') {
      return { kind: d.kind === 'note' ? 'note' : 'reply', body: d.body, status: SEND_STATUSES.includes(d.status) ? d.status : '' };
    }
  } catch (e) { /* storage disabled or a bad value: start empty */ }
  return { kind: 'reply', body: '', status: '' };
}

function saveDraft(ticketId, draft) {
  try {
    if (!draft.body && !draft.status && draft.kind === 'reply') sessionStorage.removeItem(draftKey(ticketId));
    else sessionStorage.setItem(draftKey(ticketId), JSON.stringify(draft));
  } catch (e) { /* storage full or disabled: the draft lasts while the page stays */ }
}

/* ---- files ---------------------------------------------------------------------------------------------------- */
let fileMax = DEFAULT_FILE_MAX;
let fileMaxAsked = false;
/* Admins can read the real per-file limit; agents go by the default until the server says otherwise (413). */
function askFileMax() {
  if (fileMaxAsked) return;
  fileMaxAsked = true;
  const user = store.get().user;
  if (!user || user.role !== 'admin') return;
  api('GET', '/settings').then((d) => {
    const s = ((d && d.items) || []).find((x) => x.name === 'ticketing.attachment_max_bytes');
    if (s && typeof s.value === 'number' && s.value > 0) fileMax = s.value;
  }, () => {});
}

const utf8Length = (s) => new TextEncoder().encode(s).length;

/* A file name the server accepts: no / \ " or control characters, at most 200 bytes. */
function safeName(name, type) {
  let n = String(name || '').replace(/[\u0000-\u001f\u007f/\\"]/g, '_').trim();
  if (!n || n === '.' || n === '..') {
    const ext = (type && type.startsWith('image/')) ? '.' + type.slice(6).replace(/[^a-z0-9]/g, '') : '';
    n = 'file' + ext;
  }
  while (utf8Length(n) > 200) n = n.slice(0, -1);
  return n;
}

/* Pasted screenshots are all called image.png: give them a name that says when. */
function pastedName(file) {
  const d = new Date();
  const p = (x) => String(x).padStart(2, '0');
  const ext = (file.type.split('/')[1] || 'png').replace(/[^a-z0-9]/g, '') || 'png';
  return `image-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.${ext}`;
}

const mediaType = (type) => (/^[a-z0-9.+_-]+\/[a-z0-9.+_-]+$/.test(String(type || '').toLowerCase()) ? type.toLowerCase() : null);

function toBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const s = String(reader.result);
      resolve(s.slice(s.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

let nextFileId = 1;

/* ---- macros ---------------------------------------------------------------------------------------------------- */
/* Case- and accent-insensitive the way Turkish agents type: "İADE", "iade" and "Iade" all match "İade süreci". */
function fold(s) {
  return String(s || '').toLocaleLowerCase('tr-TR').replace(/ı/g, 'i').normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/* The macro's reply as the server will write it: the same variables, filled from what this page knows. */
function fillMacro(text, ticket, customer) {
  const user = store.get().user;
  const values = {
    'customer.name': (customer && customer.name) || '',
    'ticket.reference': ticket.reference,
    'ticket.subject': ticket.subject,
    order_number: ticket.order_number || '',
    'agent.name': (user && user.name) || '',
    'customer.first_name': ((customer && customer.name) || '').split(/\s+/)[0],
  };
  return text.replace(/\{\{\s*([a-z_.]+)\s*\}\}/g, (m, name) => (name in values ? values[name] : m));
}

function MacroPicker({ macros, ticket, customer, disabled, onApply, users, teams }) {
  const customerLang = customer && customer.lang;
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const [picked, setPicked] = useState(null);
  const [active, setActive] = useState(0);
  const input = useRef(null);
  const root = useRef(null);
  const matches = macros.filter((m) => fold(m.name).includes(fold(q.trim())));
  useEffect(() => {
    if (open && input.current) input.current.focus();
  }, [open]);
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => { if (root.current && !root.current.contains(e.target)) close(); };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);
  function close() {
    setOpen(false);
    setPicked(null);
    setQ('');
    setActive(0);
  }
  function onKey(e) {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(a + 1, matches.length - 1)); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(a - 1, 0)); }
    else if (e.key === 'Enter') { e.preventDefault(); if (matches[active]) setPicked(matches[active]); }
  }
  const preview = picked && fillMacro((customerLang === 'en' ? picked.body_en || picked.body_tr
    : picked.body_tr || picked.body_en) || '', ticket, customer).replace(/\{\{\s*customer\.honorific\s*\}\}/g, customerLang === 'en' ? '' : t('macro.honorific_slot'));
  const changes = picked && picked.changes ? Object.entries(picked.changes).filter(([, v]) => v !== null && v !== undefined &&
    !(Array.isArray(v) && !v.length)) : [];
  return html`<div class="macro-picker" ref=${root}>
    <button type="button" class="btn btn-ghost btn-sm" data-action="macros" aria-expanded=${open ? 'true' : 'false'}
      disabled=${disabled} onClick=${() => (open ? close() : setOpen(true))}>${t('composer.macros')}</button>
    ${open ? html`<div class="macro-pop card" role="dialog" aria-label=${t('composer.macros')}>
      ${picked ? html`<div class="macro-preview" data-region="macro-preview">
        <strong>${picked.name}</strong>
        ${preview ? html`<p class="macro-body">${preview}</p>` : html`<p class="muted small">${t('macro.no_reply')}</p>`}
        ${changes.length ? html`<ul class="macro-changes">${changes.map(([k, v]) => html`<li>${macroChange(k, v, { users, teams })}</li>`)}</ul>` : null}
        <p class="muted small">${t(preview ? 'macro.fills_composer' : 'macro.changes_only')}</p>
        <div class="row-actions">
          <button type="button" class="btn btn-primary btn-sm" data-action="apply-macro" disabled=${disabled}
            onClick=${() => { const m = picked; close(); onApply(m); }}>${t(preview ? 'macro.insert' : 'macro.apply')}</button>
          <button type="button" class="btn btn-ghost btn-sm" onClick=${() => setPicked(null)}>${t('macro.back')}</button>
        </div>
      </div>` : html`<div>
        <input ref=${input} type="search" class="macro-search" data-field="macro" value=${q}
          placeholder=${t('macro.search')} aria-label=${t('macro.search')}
          onInput=${(e) => { setQ(e.currentTarget.value); setActive(0); }} onKeyDown=${onKey} />
        ${matches.length ? html`<ul class="macro-list" role="listbox" aria-label=${t('composer.macros')}>
          ${matches.map((m, i) => html`<li key=${m.id} role="option" aria-selected=${i === active ? 'true' : 'false'}
              class=${i === active ? 'is-active' : ''}>
            <button type="button" data-macro=${m.id} onClick=${() => setPicked(m)}>${m.name}</button></li>`)}
        </ul>` : html`<p class="muted small pad">${t('macro.none_match')}</p>`}
      </div>`}
    </div>` : null}
  </div>`;
}

export function macroChange(key, value, ctx = {}) {
  switch (key) {
    case 'status': return t('macro.sets_status', { status: STATUS_KEYS[value] ? t(STATUS_KEYS[value]) : value });
    case 'priority': return t('macro.sets_priority', { priority: t('priority.' + value) });
    case 'add_tags': return t('macro.adds_tags', { tags: value.join(', ') });
    case 'remove_tags': return t('macro.removes_tags', { tags: value.join(', ') });
    case 'assignee_id': return value === 'me' ? t('macro.assigns_me') : value === null || value === 'none' ? t('macro.unassigns')
      : t('macro.assigns_to', { name: personName(ctx.users || [], value) });
    case 'team_id': return value === null ? t('macro.no_team')
      : t('macro.sets_team', { team: ((ctx.teams || []).find((x) => x.id === value) || { name: '#' + value }).name });
    default: return key;
  }
}

/* ---- the composer ---------------------------------------------------------------------------------------------- */
/* Keyed by ticket id by the caller, so that each ticket gets its own state and draft. focus: {kind, n} — a new
 * n switches to that kind and focuses the text (the r and n shortcuts). recipients: the customers of a ticket with
 * several (each {id, name, email, lang, reference, subject, order_number}), else null; defaultTo: the id picked
 * first. onApplyMacro(macroId, customerId). */
export function Composer({ ticket, customer, recipients, defaultTo, macros, onSent, onApplyMacro, onTyping, focus,
  disabled, users, teams }) {
  const id = ticket.id;
  const [toId, setToId] = useState(null);
  const recipient = recipients ? recipients.find((c) => c.id === toId) || recipients.find((c) => c.id === defaultTo)
    || recipients[0] : null;
  const [draft] = useState(() => loadDraft(id));
  const [kind, setKind] = useState(draft.kind);
  const [body, setBody] = useState(draft.body);
  const [status, setStatus] = useState(draft.status);
  const [files, setFiles] = useState([]);   // {key, id (the server's, null while uploading), name, size}
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const picker = useRef(null);
  const textarea = useRef(null);
  const drag = useRef(0);
  // A macro put in the editor: its name and the changes it makes when the reply is sent; the honorifics to choose
  // from when its text says {{customer.honorific}} (Bey/Hanım).
  const [macro, setMacro] = useState(null);
  const [honorifics, setHonorifics] = useState([]);
  // The reply just sent and held for the undo window: {id, until (ms), request}.
  const [held, setHeld] = useState(null);
  const [, tick] = useState(0);
  // The channel a reply goes out on (GET /tickets/{id}/channels) and the agent's switch (via).
  const [channels, setChannels] = useState(null);
  const [via, setVia] = useState(null);
  const [fieldError, setFieldError] = useState(null);   // {field, message}: shown beside that field
  // CC and BCC (comma-separated addresses), shown when asked for; the signature a reply gets (GET …/signature).
  const [copies, setCopies] = useState(null);           // null: hidden; else {cc, bcc}
  const [signature, setSignature] = useState('');
  const [sigEdit, setSigEdit] = useState(null);         // the agent's own signature being edited, or null
  useEffect(() => {
    let live = true;
    api('GET', '/tickets/' + id + '/channels').then((d) => { if (live) setChannels(d); }, () => {});
    api('GET', '/tickets/' + id + '/signature').then((d) => { if (live) setSignature((d && d.text) || ''); }, () => {});
    // A reply of this agent's still held (sent just before a reload) can still be undone.
    api('GET', '/tickets/' + id + '/scheduled').then((d) => {
      const s = live && ((d && d.items) || []).find((x) => !x.error);
      if (s) setHeld({ id: s.id, until: Date.now() + s.seconds_left * 1000, request: s.request });
    }, () => {});
    return () => { live = false; };
  }, [id]);
  useEffect(() => {
    if (!held) return undefined;
    const timer = setInterval(() => {
      tick((n) => n + 1);
      if (Date.now() > held.until + 1500) { setHeld(null); onSent(); }
    }, 250);
    return () => clearInterval(timer);
  }, [held]);

  useEffect(askFileMax, []);
  useEffect(() => { saveDraft(id, { kind, body, status }); }, [kind, body, status]);
  /* The files of this agent's draft, kept on the server. */
  useEffect(() => {
    let live = true;
    api('GET', '/tickets/' + id + '/draft').then((d) => {
      if (!live) return;
      const saved = ((d && d.files) || []).map((f) => ({ key: nextFileId++, id: f.id, name: f.filename, size: f.size, url: f.url }));
      setFiles((now) => [...saved, ...now.filter((f) => !f.id)]);
    }, () => {});
    return () => { live = false; };
  }, [id]);
  useEffect(() => { if (onTyping) onTyping(body); }, [body]);
  const focusSeen = useRef(focus ? focus.n : 0);   // a request made before this ticket opened is not for it
  useEffect(() => {
    if (!focus || focus.n === focusSeen.current) return;
    focusSeen.current = focus.n;
    setKind(focus.kind);
    if (textarea.current) textarea.current.focus();
  }, [focus && focus.n]);

  /* Uploads one file to the draft; its chip shows "uploading" until the server has it. */
  async function upload(entry, file) {
    try {
      const saved = await api('POST', '/tickets/' + id + '/draft/files', { filename: entry.name,
        ...(entry.type ? { content_type: entry.type } : {}), data_base64: await toBase64(file) });
      setFiles((now) => now.map((f) => (f.key === entry.key ? { ...f, id: saved.id, url: saved.url } : f)));
    } catch (err) {
      setFiles((now) => now.filter((f) => f.key !== entry.key));
      let why = errorText(err);
      if (err.code === 'attachment_too_large') {
        const m = /larger than (\d+) bytes/.exec(err.message || '');
        if (m) fileMax = Number(m[1]);
        why = t('attach.server_too_large', { max: bytes(fileMax) });
      } else if (err.code === 'body_too_large') {
        why = t('attach.total_too_large_server');
      }
      setProblems((p) => [...p, t('attach.upload_failed', { name: entry.name, error: why })]);
    }
  }

  function addFiles(list, pasted) {
    const next = [...files];
    const bad = [];
    const added = [];
    for (const file of list) {
      const name = safeName(pasted ? pastedName(file) : file.name, file.type);
      if (next.length >= MAX_FILES) { bad.push(t('attach.too_many', { max: MAX_FILES })); break; }
      if (!file.size) { bad.push(t('attach.empty', { name })); continue; }
      if (file.size > fileMax) { bad.push(t('attach.too_large', { name, size: bytes(file.size), max: bytes(fileMax) })); continue; }
      const entry = { key: nextFileId++, id: null, name, size: file.size, type: mediaType(file.type) };
      next.push(entry);
      added.push([entry, file]);
    }
    setFiles(next);
    setProblems(bad);
    for (const [entry, file] of added) upload(entry, file);
  }
  const removeFile = (f) => {
    setFiles(files.filter((x) => x.key !== f.key));
    setProblems([]);
    if (f.url) api('DELETE', f.url.replace(/^\/api\/v1/, '')).catch((err) => setError(err));
  };
  async function discard() {
    setBody('');
    setStatus('');
    setKind('reply');
    setProblems([]);
    setError(null);
    setFiles([]);
    saveDraft(id, { kind: 'reply', body: '', status: '' });
    try { await api('DELETE', '/tickets/' + id + '/draft'); } catch (err) { setError(err); }
  }
  const uploading = files.some((f) => !f.id);

  function onPaste(e) {
    const items = (e.clipboardData && e.clipboardData.files) ? [...e.clipboardData.files] : [];
    const images = items.filter((f) => f.type.startsWith('image/'));
    if (!images.length) return;
    e.preventDefault();
    addFiles(images, true);
  }
  function onDragEnter(e) {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    drag.current += 1;
    setDragging(true);
  }
  function onDragOver(e) {
    if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }
  function onDragLeave() {
    drag.current = Math.max(0, drag.current - 1);
    if (!drag.current) setDragging(false);
  }
  function onDrop(e) {
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    drag.current = 0;
    setDragging(false);
    addFiles([...e.dataTransfer.files], false);
  }

  /* A macro goes into the editor (rendered by the server: the customer's language, every variable) with the changes it
   * will make shown beside it; nothing is sent until the agent sends. A macro without a reply applies its changes. */
  async function useMacro(m) {
    setError(null);
    setFieldError(null);
    try {
      const r = await api('GET', '/tickets/' + id + '/macros/' + m.id + '/render' + (recipient ? '?to_customer_id=' + recipient.id : ''));
      if (!r.body) { onApplyMacro(m.id, recipient && recipient.id); return; }
      setKind('reply');
      setBody((now) => (now.trim() ? now.replace(/\s*$/, '\n\n') + r.body : r.body));
      const changes = r.changes && Object.keys(r.changes).length ? r.changes : null;
      setMacro(changes ? { name: r.name, changes } : null);
      setHonorifics(r.honorifics || []);
      if (textarea.current) requestAnimationFrame(() => textarea.current && textarea.current.focus());
    } catch (err) {
      setError(err);
    }
  }
  const HONORIFIC = /\{\{\s*customer\.honorific\s*\}\}/g;
  function chooseHonorific(value) {
    setBody((now) => (value ? now.replace(HONORIFIC, value) : now.replace(/ ?\{\{\s*customer\.honorific\s*\}\}/g, '')));
    setHonorifics([]);
    setFieldError(null);
  }
  const channelBlocked = channels && !channels.default && !via;

  const splitAddresses = (text) => String(text || '').split(/[,;\s]+/).map((x) => x.trim()).filter(Boolean);
  async function saveSignature() {
    try {
      await api('PUT', '/me/signature', { text: sigEdit });
      const d = await api('GET', '/tickets/' + id + '/signature');
      setSignature((d && d.text) || '');
      setSigEdit(null);
    } catch (err) {
      setFieldError({ field: 'signature', message: errorText(err) });
    }
  }

  async function undo() {
    const h = held;
    if (!h) return;
    try {
      const r = await api('DELETE', '/tickets/' + id + '/scheduled/' + h.id);
      setHeld(null);
      const req = (r && r.request) || h.request || {};
      setKind(req.kind === 'note' ? 'note' : 'reply');
      setBody(req.body || '');
      if (req.changes && req.changes.status && Object.keys(req.changes).length === 1) setStatus(req.changes.status);
      else if (req.changes) { setMacro({ name: t('composer.undone_changes'), changes: req.changes }); }
      // Its files stayed with the draft on the server: show them again.
      const d = await api('GET', '/tickets/' + id + '/draft');
      setFiles(((d && d.files) || []).map((f) => ({ key: nextFileId++, id: f.id, name: f.filename, size: f.size, url: f.url })));
    } catch (err) {
      setHeld(null);
      setError(err.code === 'already_sent' ? { message: t('composer.already_sent') } : err);
      onSent();
    }
  }

  async function send(e) {
    if (e) e.preventDefault();
    const text = body.trim();
    if (!text || busy || disabled || uploading) return;
    if (kind === 'reply' && HONORIFIC.test(text)) {
      HONORIFIC.lastIndex = 0;
      setFieldError({ field: 'honorific', message: t('composer.choose_honorific') });
      return;
    }
    if (kind === 'reply' && channelBlocked) {
      setFieldError({ field: 'via', message: t('channel.no_sender', { channel: t('channel.' + channels.channel) }) });
      return;
    }
    if (utf8Length(text) > BODY_MAX) { setError({ status: 422, message: t('composer.too_long', { max: bytes(BODY_MAX) }) }); return; }
    setBusy(true);
    setError(null);
    try {
      const draftIds = files.map((f) => f.id);
      // The reply, its status and its macro's changes in one request: all written together, or none.
      const changes = { ...((macro && macro.changes) || {}) };
      if (status && status !== ticket.status) changes.status = status;
      const res = await api('POST', '/tickets/' + id + '/messages', { body: text, kind,
        ...(recipient && kind === 'reply' ? { to_customer_id: recipient.id } : {}),
        ...(via && kind === 'reply' ? { via } : {}),
        ...(copies && kind === 'reply' && splitAddresses(copies.cc).length ? { cc: splitAddresses(copies.cc) } : {}),
        ...(copies && kind === 'reply' && splitAddresses(copies.bcc).length ? { bcc: splitAddresses(copies.bcc) } : {}),
        ...(Object.keys(changes).length ? { changes } : {}),
        ...(kind === 'reply' ? { hold: true } : {}),
        ...(draftIds.length ? { draft_files: draftIds } : {}) });
      setBody('');
      setFiles([]);
      setProblems([]);
      setMacro(null);
      setHonorifics([]);
      setFieldError(null);
      setCopies(null);
      saveDraft(id, { kind: 'reply', body: '', status: '' });
      setStatus('');
      if (res && res.scheduled) {
        const sc = res.scheduled;
        setHeld({ id: sc.id, until: Date.now() + (sc.undo_seconds || sc.seconds_left || 0) * 1000, request: sc.request });
        setKind('reply');
        return;
      }
      setKind('reply');
      await onSent();
    } catch (err) {
      if (err.code === 'attachment_too_large') {
        const m = /larger than (\d+) bytes/.exec(err.message || '');
        if (m) fileMax = Number(m[1]);
        setError({ status: 413, message: t('attach.server_too_large', { max: bytes(fileMax) }) });
      } else if (err.code === 'body_too_large') {
        setError({ status: 413, message: t('attach.total_too_large_server') });
      } else if (err.details && (err.details.field === 'cc' || err.details.field === 'bcc')) {
        setFieldError({ field: err.details.field, message: errorText(err) });
      } else if (err.code === 'channel_unavailable' || (err.details && err.details.field === 'via')) {
        setFieldError({ field: 'via', message: err.code === 'channel_unavailable'
          ? t('channel.no_sender', { channel: t('channel.' + ((err.details && err.details.channel) || ticket.channel)) }) : errorText(err) });
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  // What another module's tool in the slot "composer.tools" inserts (the help centre's article link): at the caret.
  function insertText(text) {
    const el = textarea.current;
    const start = el && typeof el.selectionStart === 'number' ? el.selectionStart : body.length;
    const end = el && typeof el.selectionEnd === 'number' ? el.selectionEnd : start;
    setBody(body.slice(0, start) + text + body.slice(end));
    if (el) requestAnimationFrame(() => { el.focus(); el.setSelectionRange(start + text.length, start + text.length); });
  }

  // @mentions in a note: the colleagues whose name (or a word of it) starts with what follows the "@" at the caret.
  const [mention, setMention] = useState(null);   // {start, items, active} while the list is open
  function findMention(value, caret) {
    if (kind !== 'note') { setMention(null); return; }
    const m = /(^|\s)@([^\s@]{0,30})$/.exec(value.slice(0, caret));
    if (!m) { setMention(null); return; }
    const typed = m[2].toLocaleLowerCase('tr');
    const items = (users || []).filter((u) => u.active !== false && u.name
      && u.name.toLocaleLowerCase('tr').split(/\s+/).some((w) => w.startsWith(typed)))
      .sort((a, b) => a.name.localeCompare(b.name, 'tr')).slice(0, 8);
    setMention(items.length ? { start: caret - m[2].length - 1, end: caret, items, active: 0 } : null);
  }
  function pickMention(u) {
    const el = textarea.current;
    const text = '@' + u.name + ' ';
    const next = body.slice(0, mention.start) + text + body.slice(mention.end);
    const at = mention.start + text.length;
    setBody(next);
    setMention(null);
    if (el) requestAnimationFrame(() => { el.focus(); el.setSelectionRange(at, at); });
  }
  function mentionKey(e) {
    if (!mention) return false;
    const n = mention.items.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setMention({ ...mention, active: (mention.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n });
      return true;
    }
    if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pickMention(mention.items[mention.active]); return true; }
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); setMention(null); return true; }
    return false;
  }

  const note = kind === 'note';
  const to = customer && (customer.email || customer.phone);
  const label = t(note ? 'composer.add_note' : 'composer.send');
  return html`<form class=${'composer card composer-' + kind + (dragging ? ' is-dragging' : '')} onSubmit=${send}
      data-region="composer" onDragEnter=${onDragEnter} onDragOver=${onDragOver} onDragLeave=${onDragLeave} onDrop=${onDrop}>
    <div class="composer-top">
      <div class="tabs" role="tablist" aria-label=${t('composer.kind')}>
        <button type="button" role="tab" aria-selected=${!note} class=${!note ? 'is-active' : ''}
          onClick=${() => setKind('reply')} data-kind="reply">${t('composer.reply')}</button>
        <button type="button" role="tab" aria-selected=${note} class=${note ? 'is-active is-note' : ''}
          onClick=${() => setKind('note')} data-kind="note">${t('composer.note')}</button>
      </div>
      ${macros.length ? html`<${MacroPicker} macros=${macros}
        ticket=${recipient ? { ...ticket, reference: recipient.reference, subject: recipient.subject,
          order_number: recipient.order_number } : ticket}
        customer=${recipient || customer}
        users=${users} teams=${teams} disabled=${busy || disabled} onApply=${useMacro} />` : null}
      <${Slot} name="composer.tools" label=${t('composer.plugin_tools')} insert=${insertText}
        lang=${(customer && customer.lang) || null} disabled=${busy || disabled} />
    </div>
    ${recipient && !note ? html`<label class="composer-to small" data-region="composer-audience">
        <span>${t('composer.reply_to')}</span>
        <select data-field="reply-to" value=${recipient.id} disabled=${busy || disabled}
          onChange=${(e) => setToId(Number(e.currentTarget.value))}>
          ${recipients.map((c) => html`<option value=${c.id}>${`${c.name || c.email} <${c.email || ''}> · ${c.reference}`}</option>`)}
        </select>
        <span class="muted">${t('composer.reply_to_hint')}</span>
      </label>`
      : html`<p class=${'composer-to small' + (note ? ' is-note' : '')} data-region="composer-audience">
      ${note ? t('composer.note_audience') : to ? t('composer.to', { name: (customer && customer.name) || to, address: to })
        : t('composer.reply_audience')}
    </p>`}
    ${!note && channels ? html`<div class="composer-channel small" data-region="composer-channel">
      <span>${t('channel.reply_on')}</span>
      ${(() => {
        const current = via || channels.default;
        if (channels.options.length > 1) {
          return html`<select data-field="via" value=${current || ''} disabled=${busy || disabled}
            aria-invalid=${fieldError && fieldError.field === 'via' ? 'true' : undefined}
            onChange=${(e) => { setVia(e.currentTarget.value || null); setFieldError(null); }}>
            ${current ? null : html`<option value="">${t('channel.' + channels.channel)}</option>`}
            ${channels.options.map((o) => html`<option value=${o.via} disabled=${!o.available}>${t('channel.' + o.via)}${o.address ? ' · ' + o.address : ''}</option>`)}</select>`;
        }
        return html`<strong data-field="channel">${current ? t('channel.' + current) : t('channel.' + channels.channel)}</strong>`;
      })()}
      ${channelBlocked ? html`<span class="alert alert-warning inline-alert" role="status" data-region="channel-warning">
        ${t('channel.no_sender', { channel: t('channel.' + channels.channel) })}
        ${channels.options.some((o) => o.via === 'email' && o.available) ? html` <button type="button" class="btn btn-secondary btn-sm"
          data-action="via-email" onClick=${() => { setVia('email'); setFieldError(null); }}>${t('channel.use_email')}</button>` : null}
      </span>` : null}
      ${fieldError && fieldError.field === 'via' ? html`<span class="field-error" role="alert" data-error="via">${fieldError.message}</span>` : null}
    </div>` : null}
    ${!note && (!channels || channels.default === 'email' || via === 'email') ? html`<div class="composer-copies small" data-region="composer-copies">
      ${copies ? ['cc', 'bcc'].map((f) => html`<label class="inline"><span>${t(f === 'cc' ? 'composer.cc' : 'composer.bcc')}</span>
        <input type="text" data-field=${f} value=${copies[f]} placeholder=${t('composer.copies_placeholder')}
          aria-invalid=${fieldError && fieldError.field === f ? 'true' : undefined}
          onInput=${(e) => { setCopies({ ...copies, [f]: e.currentTarget.value }); setFieldError(null); }} />
        ${fieldError && fieldError.field === f ? html`<span class="field-error" role="alert" data-error=${f}>${fieldError.message}</span>` : null}</label>`)
        : html`<button type="button" class="btn btn-ghost btn-sm" data-action="show-copies" onClick=${() => setCopies({ cc: '', bcc: '' })}>${t('composer.add_copies')}</button>`}
    </div>` : null}
    ${macro || honorifics.length ? html`<div class="composer-macro small" data-region="macro-changes">
      ${macro ? html`<span>${t('composer.macro_will', { name: macro.name })}</span>
        <ul class="macro-changes inline-list">${Object.entries(macro.changes).map(([k, v]) => html`<li data-change=${k}>${macroChange(k, v, { users, teams })}</li>`)}</ul>
        <button type="button" class="tag-x" aria-label=${t('composer.drop_changes')} data-action="drop-changes"
          onClick=${() => setMacro(null)}>×</button>` : null}
      ${honorifics.length ? html`<label class="inline"><span>${t('composer.honorific')}</span>
        <select data-field="honorific" aria-invalid=${fieldError && fieldError.field === 'honorific' ? 'true' : undefined}
          onChange=${(e) => e.currentTarget.value && chooseHonorific(e.currentTarget.value === '-' ? '' : e.currentTarget.value)}>
          <option value="">${t('composer.honorific_pick')}</option>
          ${honorifics.map((h) => html`<option value=${h}>${h}</option>`)}
          <option value="-">${t('composer.honorific_none')}</option>
        </select></label>
        ${fieldError && fieldError.field === 'honorific' ? html`<span class="field-error" role="alert" data-error="honorific">${fieldError.message}</span>` : null}` : null}
    </div>` : null}
    ${held ? html`<div class="alert alert-info composer-held" role="status" data-region="held">
      <span>${t('composer.held', { n: Math.max(0, Math.ceil((held.until - Date.now()) / 1000)) })}</span>
      <button type="button" class="btn btn-secondary btn-sm" data-action="undo-send" onClick=${undo}>${t('composer.undo')}</button>
    </div>` : null}
    <div class="composer-body">
    <textarea ref=${textarea} name="body" rows="5" value=${body} aria-label=${t('composer.' + kind)}
      placeholder=${t(note ? 'composer.note_placeholder' : 'composer.reply_placeholder')}
      role=${note ? 'combobox' : undefined} aria-autocomplete=${note ? 'list' : undefined}
      aria-expanded=${note ? (mention ? 'true' : 'false') : undefined} aria-controls=${mention ? 'mention-list-' + id : undefined}
      aria-activedescendant=${mention ? 'mention-' + id + '-' + mention.items[mention.active].id : undefined}
      onInput=${(e) => { setBody(e.currentTarget.value); findMention(e.currentTarget.value, e.currentTarget.selectionStart); }}
      onPaste=${onPaste} onBlur=${() => setTimeout(() => setMention(null), 150)}
      onKeyDown=${(e) => { if (mentionKey(e)) return; if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send(e); }}></textarea>
    ${mention ? html`<ul class="mention-list" role="listbox" id=${'mention-list-' + id} data-region="mentions"
        aria-label=${t('composer.mention_list')}>
      ${mention.items.map((u, i) => html`<li role="option" id=${'mention-' + id + '-' + u.id} key=${u.id}
          aria-selected=${i === mention.active ? 'true' : 'false'} class=${i === mention.active ? 'is-active' : ''}
          data-mention=${u.id} onMouseDown=${(e) => { e.preventDefault(); pickMention(u); }}>${u.name}</li>`)}
    </ul>` : null}
    </div>
    ${!note ? html`<div class="composer-signature small muted" data-region="signature">
      ${sigEdit !== null ? html`<label class="sig-edit"><span>${t('composer.my_signature')}</span>
          <textarea rows="3" data-field="my-signature" value=${sigEdit} onInput=${(e) => setSigEdit(e.currentTarget.value)}></textarea></label>
        <button type="button" class="btn btn-secondary btn-sm" data-action="save-signature" onClick=${saveSignature}>${t('admin.save')}</button>
        <button type="button" class="btn btn-ghost btn-sm" onClick=${() => setSigEdit(null)}>${t('merge.cancel')}</button>
        ${fieldError && fieldError.field === 'signature' ? html`<span class="field-error" role="alert">${fieldError.message}</span>` : null}`
        : html`<span>${signature ? t('composer.signature_added') : t('composer.no_signature')}</span>
          ${signature ? html`<pre class="sig-preview" data-field="signature-preview">${signature}</pre>` : null}
          <button type="button" class="btn btn-ghost btn-sm" data-action="edit-signature"
            onClick=${() => api('GET', '/me/signature').then((d) => setSigEdit((d && d.text) || ''), (err) => setError(err))}>${t('composer.edit_signature')}</button>`}
    </div>` : null}
    ${files.length ? html`<ul class="pending-files" data-region="pending-files">
      ${files.map((f) => html`<li key=${f.key} class="file-chip" data-file=${f.name} data-uploaded=${f.id ? 'yes' : 'no'}>
        <span class="file-name">${f.name}</span> <span class="muted small">${f.id ? bytes(f.size) : t('attach.uploading')}</span>
        <button type="button" class="tag-x" aria-label=${t('attach.remove', { name: f.name })} disabled=${!f.id}
          onClick=${() => removeFile(f)}>×</button>
      </li>`)}
    </ul>` : null}
    ${problems.length ? html`<div class="alert alert-error" role="alert" data-region="attach-errors">
      ${problems.map((p) => html`<span>${p}</span>`)}</div>` : null}
    ${error ? html`<div class="alert alert-error" role="alert">${errorText(error)}</div>` : null}
    ${dragging ? html`<div class="drop-hint" aria-hidden="true">${t('attach.drop')}</div>` : null}
    <div class="composer-foot">
      <input ref=${picker} type="file" multiple class="visually-hidden" tabindex="-1" data-field="files"
        aria-hidden="true" onChange=${(e) => { addFiles([...e.currentTarget.files], false); e.currentTarget.value = ''; }} />
      <button type="button" class="btn btn-ghost btn-sm" data-action="attach" disabled=${busy || disabled}
        onClick=${() => picker.current && picker.current.click()}>
        <svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
          <path d="M14.5 9.5l-5.3 5.3a3.2 3.2 0 0 1-4.5-4.5l5.8-5.8a2.1 2.1 0 0 1 3 3l-5.6 5.6a1 1 0 0 1-1.5-1.5l5-5" />
        </svg>${t('attach.add')}</button>
      <span class="muted small composer-hint">${files.length && !body.trim() ? t('attach.needs_text') : t('composer.hint')}</span>
      <label class="inline"><span>${t('composer.then')}</span>
        <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)} data-field="send-status" disabled=${busy || disabled}>
          <option value="">${t('composer.keep_status')}</option>
          ${SEND_STATUSES.map((s) => html`<option value=${s}>${t(STATUS_KEYS[s])}</option>`)}
        </select></label>
      ${body || files.length ? html`<button type="button" class="btn btn-ghost btn-sm" data-action="discard"
        disabled=${busy || disabled} onClick=${discard}>${t('composer.discard')}</button>` : null}
      <button class=${'btn ' + (note ? 'btn-note' : 'btn-primary')} type="submit" disabled=${busy || disabled || uploading || !body.trim()} data-action="send">
        ${busy ? t('composer.sending') : status ? t('composer.send_and_set', { action: label, status: t(STATUS_KEYS[status]) }) : label}</button>
    </div>
  </form>`;
}
