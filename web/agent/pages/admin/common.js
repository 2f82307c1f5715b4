// Pieces every admin screen uses: lists loaded from the API, forms whose 422 errors land beside the field they
// name, a confirmation dialog, a table that turns into labelled cards on a phone, and small formatters.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { store } from '../../store.js';
import { Alert, errorText } from '../../components.js';
import { errorWords } from '../../modules.js';

/* Error codes of the admin APIs that have words of their own (the core's here, the modules' from their manifests'
 * `errors`); the rest go through errorText (the server's message for a 4xx, a generic line otherwise). */
const ADMIN_ERRORS = {
  last_admin: 'admin.err_last_admin',
  name_taken: 'admin.err_name_taken',
  not_found: 'admin.err_not_found',
  forbidden: 'admin.only',
};

export function adminErrorText(err) {
  const key = err && (ADMIN_ERRORS[err.code] || errorWords()[err.code]);
  return key ? t(key) : errorText(err);
}

export function ErrorAlert({ error }) {
  return error ? html`<${Alert}>${adminErrorText(error)}<//>` : null;
}

/* GET path as a list: {items, error, loading, more, reload, loadMore, setError}. Pages with next_cursor are
 * appended by loadMore (a "show more" button), so long lists stay bounded. */
export function useList(path, { limit = 100 } = {}) {
  const [state, setState] = useState({ items: null, cursor: null, error: null, loading: true });
  const seq = useRef(0);
  const url = (cursor) => path + (path.includes('?') ? '&' : '?') + 'limit=' + limit +
    (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
  const reload = async () => {
    const mine = ++seq.current;
    try {
      const d = await api('GET', url(null));
      if (mine === seq.current) setState({ items: (d && d.items) || [], cursor: d && d.next_cursor, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, error, loading: false }));
    }
  };
  const loadMore = async () => {
    if (!state.cursor) return;
    try {
      const d = await api('GET', url(state.cursor));
      setState((s) => ({ items: [...(s.items || []), ...((d && d.items) || [])], cursor: d && d.next_cursor, error: null, loading: false }));
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  };
  useEffect(() => { setState((s) => ({ ...s, loading: true })); reload(); }, [path]);
  return { items: state.items, error: state.error, loading: state.loading, more: !!state.cursor, reload, loadMore,
    setError: (error) => setState((s) => ({ ...s, error })) };
}

export function MoreButton({ list }) {
  return list.more ? html`<button class="btn btn-secondary btn-sm more" type="button" onClick=${list.loadMore}>
    ${t('admin.show_more')}</button>` : null;
}

/* What a 422 tells about a field, in the UI's language around the server's own words (the server writes
 * English; parser messages such as "hours: unknown day 'fry'" are worth showing as they are). */
export function fieldMessage(err) {
  if (ADMIN_ERRORS[err.code] || err.code === 'email_taken') return adminErrorText(err);
  if (!err.message) return t('admin.invalid');
  return store.get().lang === 'en' ? err.message : t('admin.server_said', { message: err.message });
}

/* A form's state: values, errors by field, the error that belongs to no field, and busy while saving.
 *   id        prefix of the inputs' ids and names ("user" -> "user-email")
 *   fieldOf   maps a 4xx ApiError to one of this form's field names, or null (default: a 422's err.field)
 *   validate  values -> {field: message} checked before sending (messages in the UI's language) */
export function useForm(id, initial, { fieldOf, validate } = {}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const focusNext = useRef(false);
  useEffect(() => {
    if (!focusNext.current) return;
    focusNext.current = false;
    const first = Object.keys(errors)[0];
    const el = first && document.getElementById(id + '-' + first);
    if (el && el.focus) el.focus();
  }, [errors]);
  const form = {
    id, values, errors, error, busy,
    set(name, value) {
      setValues((v) => ({ ...v, [name]: value }));
      if (errors[name]) setErrors((e) => { const c = { ...e }; delete c[name]; return c; });
    },
    reset(next) { setValues(next || initial); setErrors({}); setError(null); },
    setError,
    /* The submit handler: checks, then runs fn(values); a 422 naming a field marks that field. */
    submit(fn) {
      return async (e) => {
        if (e) e.preventDefault();
        if (busy) return;
        const local = validate ? validate(values) : null;
        if (local && Object.keys(local).length) {
          focusNext.current = true;
          setErrors(local);
          setError(null);
          return;
        }
        setBusy(true);
        setErrors({});
        setError(null);
        try {
          await fn(values);
        } catch (err) {
          const field = !err || !err.status || err.status >= 500 ? null
            : fieldOf ? fieldOf(err) : err.status === 422 ? err.field : null;
          if (field && field in values) {
            focusNext.current = true;
            setErrors({ [field]: fieldMessage(err) });
          } else {
            setError(err);
          }
        } finally {
          setBusy(false);
        }
      };
    },
  };
  return form;
}

/* One labelled control of a form. type: text (default), email, password, url, number, textarea, select
 * (options: [[value, label], ...]), checkbox. hint: a line under it; the field's error replaces the hint. */
export function F({ form, name, label, type, hint, options, rows, required, placeholder, min, max, step,
  autocomplete, list, wide, onFocus, lang, inputRef, mono }) {
  const id = form.id + '-' + name;
  const err = form.errors[name];
  const described = [hint && !err ? id + '-hint' : '', err ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  const value = form.values[name];
  const common = {
    id, name: id, 'aria-invalid': err ? 'true' : 'false', 'aria-describedby': described, onFocus, lang,
    ref: inputRef, class: mono ? 'mono' : undefined,
  };
  const notes = html`${hint && !err ? html`<p class="field-hint" id=${id + '-hint'}>${hint}</p>` : null}
    ${err ? html`<p class="field-error" id=${id + '-error'} data-error-for=${name}>${err}</p>` : null}`;
  if (type === 'checkbox') {
    return html`<div class=${'field field-check' + (err ? ' field-invalid' : '') + (wide ? ' field-wide' : '')}>
      <label for=${id}><input type="checkbox" ...${common} checked=${!!value}
        onChange=${(e) => form.set(name, e.currentTarget.checked)} /> <span>${label}</span></label>
      ${notes}</div>`;
  }
  let control;
  if (type === 'select') {
    control = html`<select ...${common} value=${value} onChange=${(e) => form.set(name, e.currentTarget.value)}>
      ${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`;
  } else if (type === 'textarea') {
    control = html`<textarea ...${common} rows=${rows || 4} value=${value} placeholder=${placeholder}
      required=${required} onInput=${(e) => form.set(name, e.currentTarget.value)}></textarea>`;
  } else {
    control = html`<input ...${common} type=${type || 'text'} value=${value} placeholder=${placeholder}
      required=${required} min=${min} max=${max} step=${step} autocomplete=${autocomplete} list=${list}
      onInput=${(e) => form.set(name, e.currentTarget.value)} />`;
  }
  return html`<div class=${'field' + (err ? ' field-invalid' : '') + (wide ? ' field-wide' : '')}>
    <label for=${id}>${label}${required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>
    ${control}${notes}</div>`;
}

/* The buttons at the end of a form: submit (disabled and relabelled while saving) and an optional cancel. */
export function FormActions({ form, label, onCancel }) {
  return html`<div class="form-actions">
    <button class="btn btn-primary" type="submit" disabled=${form.busy} aria-busy=${form.busy ? 'true' : 'false'}
      data-action="save">${form.busy ? t('admin.saving') : label || t('admin.save')}</button>
    ${onCancel ? html`<button class="btn btn-ghost-text" type="button" onClick=${onCancel} disabled=${form.busy}
      data-action="cancel">${t('admin.cancel')}</button>` : null}
  </div>`;
}

/* A table that becomes a list of labelled cards below 640 px (each cell carries its column's name).
 *   columns  [{label, cell: (item) => vnode, cls}]   rowAttrs: (item) => extra attributes for the <tr> */
export function Table({ columns, items, rowKey, rowAttrs, caption }) {
  return html`<div class="table-wrap"><table class="table table-stack">
    ${caption ? html`<caption class="visually-hidden">${caption}</caption>` : null}
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.cls}>${c.label}</th>`)}</tr></thead>
    <tbody>${items.map((it) => html`<tr key=${rowKey ? rowKey(it) : it.id} ...${rowAttrs ? rowAttrs(it) : {}}>
      ${columns.map((c) => html`<td data-label=${c.label || undefined} class=${c.cls}><div class="cell">${c.cell(it)}</div></td>`)}</tr>`)}
    </tbody></table></div>`;
}

/* Focuses the element with id once, when the component appears (when: false skips it), e.g. an edit form. */
export function useFocusOnMount(id, when = true) {
  useEffect(() => {
    if (!when) return;
    const el = document.getElementById(id);
    if (el) { el.focus(); if (el.scrollIntoView) el.scrollIntoView({ block: 'center' }); }
  }, []);
}

/* The button that opens a screen's "new ..." form. */
export function NewButton({ label, onClick }) {
  return html`<div class="screen-actions"><button class="btn btn-primary" type="button" data-action="new" onClick=${onClick}>
    <span aria-hidden="true">+</span> ${label}</button></div>`;
}

export function Empty({ children }) {
  return html`<p class="empty-note" data-empty>${children}</p>`;
}

/* A card with a heading and optional buttons on the right. */
export function Section({ title, actions, children, id }) {
  return html`<section class="card admin-section" aria-labelledby=${id}>
    <div class="section-head"><h2 class="h3" id=${id}>${title}</h2>${actions ? html`<div class="row-actions">${actions}</div>` : null}</div>
    ${children}</section>`;
}

/* The confirmation dialog before anything is deleted or switched off:
 *   const [ask, dialog] = useConfirm();  ask({message, action, onConfirm}); render ${dialog} somewhere. */
export function useConfirm() {
  const [pending, setPending] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const cancelRef = useRef(null);
  const opener = useRef(null);
  const busyRef = useRef(false);  // read by the key handler, which may be older than the last render
  const close = () => {
    setPending(null);
    setError(null);
    if (opener.current && opener.current.focus) opener.current.focus();
  };
  useEffect(() => {
    if (!pending) return undefined;
    if (cancelRef.current) cancelRef.current.focus();
    const onKey = (e) => { if (e.key === 'Escape' && !busyRef.current) { e.stopPropagation(); close(); } };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, [pending]);
  const ask = (p) => { opener.current = document.activeElement; setError(null); setPending(p); };
  const confirm = async () => {
    busyRef.current = true;
    setBusy(true);
    try {
      await pending.onConfirm();
      close();
    } catch (e) {
      setError(e);
    } finally {
      busyRef.current = false;
      setBusy(false);
    }
  };
  // Tab stays inside the dialog (two buttons).
  const trap = (e) => {
    if (e.key !== 'Tab') return;
    const buttons = e.currentTarget.querySelectorAll('button:not([disabled])');
    if (!buttons.length) return;
    const first = buttons[0], last = buttons[buttons.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  };
  const dialog = pending ? html`<div class="overlay" onClick=${() => !busy && close()}>
    <div class="dialog card" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
      aria-describedby="confirm-text" data-region="confirm" onClick=${(e) => e.stopPropagation()} onKeyDown=${trap}>
      <h2 class="h3" id="confirm-title">${pending.title || t('admin.confirm_title')}</h2>
      <p id="confirm-text">${pending.message}</p>
      <${ErrorAlert} error=${error} />
      <div class="form-actions">
        <button class="btn btn-danger" type="button" onClick=${confirm} disabled=${busy} data-action="confirm">
          ${pending.action || t('admin.delete')}</button>
        <button class="btn btn-secondary" type="button" ref=${cancelRef} onClick=${close} disabled=${busy}
          data-action="dismiss">${t('admin.cancel')}</button>
      </div>
    </div></div>` : null;
  return [ask, dialog];
}

/* A secret the server shows once (token, webhook signing secret), with a copy button. */
export function SecretOnce({ secret, title, onDone }) {
  const [copied, setCopied] = useState(null);
  const inputRef = useRef(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('ok');
    } catch (e) {
      // No clipboard permission (or not a secure context): select the text so that Ctrl+C copies it.
      if (inputRef.current) { inputRef.current.focus(); inputRef.current.select(); }
      setCopied('select');
    }
  };
  return html`<div class="alert alert-info secret-once" role="status" data-region="secret">
    <p><strong>${title}</strong></p>
    <p>${t('admin.secret_once')}</p>
    <div class="inline-form">
      <input ref=${inputRef} class="mono secret" type="text" readonly value=${secret} aria-label=${title}
        data-secret onFocus=${(e) => e.currentTarget.select()} />
      <button class="btn btn-secondary btn-sm" type="button" onClick=${copy} data-action="copy">${t('admin.copy')}</button>
      <button class="btn btn-primary btn-sm" type="button" onClick=${onDone} data-action="done">${t('admin.done')}</button>
    </div>
    <p class="small" aria-live="polite">${copied === 'ok' ? t('admin.copied') : copied === 'select' ? t('admin.copy_manual') : ''}</p>
  </div>`;
}

/* Business minutes as "1 h 30 min" / "1 sa 30 dk"; null as "—". */
export function hoursMinutes(minutes) {
  if (minutes == null) return '—';
  const h = Math.floor(minutes / 60), m = minutes % 60;
  if (!h) return t('admin.min_only', { m });
  if (!m) return t('admin.hours_only', { h });
  return t('admin.hours_min', { h, m });
}

/* Text "a, b ,c" as a list of trimmed, non-empty, distinct strings. */
export function splitList(text) {
  const out = [];
  for (const s of String(text || '').split(',')) {
    const v = s.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/* Moves items[i] by delta (-1 up, +1 down) and PATCHes the position of every item whose place changed
 * (positions become 1..n in the new order). Resolves when all are saved. */
export async function reorder(items, i, delta, pathOf) {
  const j = i + delta;
  if (j < 0 || j >= items.length) return;
  const next = items.slice();
  [next[i], next[j]] = [next[j], next[i]];
  for (let k = 0; k < next.length; k++) {
    if (next[k].position !== k + 1) await api('PATCH', pathOf(next[k]), { position: k + 1 });
  }
}

/* Up and down buttons for an ordered list. */
export function MoveButtons({ index, count, onMove, name, busy }) {
  if (count < 2) return null;
  return html`<span class="move">
    <button class="btn btn-ghost btn-sm" type="button" disabled=${busy || index === 0} data-action="up"
      aria-label=${t('admin.move_up', { name })} title=${t('admin.move_up', { name })} onClick=${() => onMove(index, -1)}>↑</button>
    <button class="btn btn-ghost btn-sm" type="button" disabled=${busy || index === count - 1} data-action="down"
      aria-label=${t('admin.move_down', { name })} title=${t('admin.move_down', { name })} onClick=${() => onMove(index, 1)}>↓</button>
  </span>`;
}

export function ActiveBadge({ active }) {
  return html`<span class=${'badge ' + (active ? 'badge-on' : 'badge-off')}>${active ? t('admin.active') : t('admin.inactive')}</span>`;
}

/* The agents and admins (the first 200), for assignee pickers (active ones only) and names; fetched again each
 * time a screen opens, so that a user added on the users screen shows up. */
let usersCache = null;
export function useUsers({ all = false } = {}) {
  const pick = (list) => (all ? list : list.filter((u) => u.active !== false));
  const [users, setUsers] = useState(pick(usersCache || []));
  useEffect(() => {
    api('GET', '/users?limit=200').then((d) => {
      usersCache = (d && d.items) || [];
      setUsers(pick(usersCache));
    }, () => {});
  }, []);
  return users;
}

/* Inserts text at the caret of the textarea with id (or at its end) and hands back the new value. */
export function insertAt(id, current, text) {
  const el = document.getElementById(id);
  const value = current || '';
  if (!el || typeof el.selectionStart !== 'number') return { value: value + text, caret: value.length + text.length };
  const start = el.selectionStart, end = el.selectionEnd;
  return { value: value.slice(0, start) + text + value.slice(end), caret: start + text.length };
}

/* After a re-render, puts the caret at pos in the element with id and focuses it. */
export function placeCaret(id, pos) {
  requestAnimationFrame(() => {
    const el = document.getElementById(id);
    if (!el) return;
    el.focus();
    if (el.setSelectionRange) el.setSelectionRange(pos, pos);
  });
}

/* {name: "required"} for each of names whose value is empty. */
export function required(values, names) {
  const out = {};
  for (const n of names) if (!String(values[n] == null ? '' : values[n]).trim()) out[n] = t('validation.required');
  return out;
}
