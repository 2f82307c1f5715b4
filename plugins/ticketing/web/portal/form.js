// /contact: the web form (POST /api/v1/public/tickets). The checks mirror the server's (required fields, byte
// limits, the e-mail syntax, the files' number and size), so most mistakes get a message before anything is sent;
// whatever the server still refuses is explained in the customer's language (errors.js).
import { alert, api, checkFiles, config, shop, control, explain, field, filePicker, h, icon, lang, loadConfig, readFiles, slot, t,
  utf8Bytes } from '@destek/portal';

const FIELDS = ['name', 'email', 'order_number', 'subject', 'body'];

/* The server's e-mail check (core/http.c http_field_email). */
export function emailOk(v) {
  const at = v.indexOf('@');
  if (at <= 0 || v.indexOf('@', at + 1) >= 0) return false;
  const domain = v.slice(at + 1);
  return domain.indexOf('.') >= 0 && !domain.endsWith('.') && !/[\u0000-\u0020<>",;]/.test(v);
}

/* The contact page. params: the address's query (?order=, ?name=, ?email=, ?subject= prefill the form). */
export function contactPage(params, update) {
  const values = { name: '', email: '', order_number: '', subject: '', body: '' };
  const prefill = { order: 'order_number', name: 'name', email: 'email', subject: 'subject' };
  for (const k in prefill) if (params.get(k)) values[prefill[k]] = params.get(k).slice(0, 300);
  const st = { values, files: { files: [] }, errors: {}, failure: null, busy: false, done: null, focus: null };

  function validate() {
    const L = config.limits;
    const v = {};
    for (const k of FIELDS) v[k] = values[k].trim();
    const max = { name: L.name_bytes, email: L.email_bytes, subject: L.subject_bytes, body: L.body_bytes,
      order_number: L.order_number_bytes };
    const errors = {};
    for (const k of FIELDS) {
      if (!v[k] && k !== 'order_number') errors[k] = t('valid.required');
      else if (utf8Bytes(v[k]) > max[k]) errors[k] = t('valid.too_long');
    }
    if (!errors.email && !emailOk(v.email)) errors.email = t('valid.email');
    const files = checkFiles(st.files.files, FIELDS.reduce((n, k) => n + utf8Bytes(v[k]), 0));
    if (files) errors.files = files;
    return { v, errors };
  }

  async function submit(event) {
    event.preventDefault();
    if (st.busy) return;
    const { v, errors } = validate();
    st.errors = errors;
    st.failure = null;
    const bad = FIELDS.concat('files').find((k) => errors[k]);
    if (bad) {
      st.focus = bad === 'files' ? 'f-files' : 'f-' + bad;
      return update();
    }
    st.busy = true;
    update();
    try {
      const body = { name: v.name, email: v.email, subject: v.subject, body: v.body, lang: lang() };
      if (v.order_number) body.order_number = v.order_number;
      if (st.files.files.length) body.attachments = await readFiles(st.files.files);
      const res = await api('POST', '/public/tickets', body);
      st.done = { reference: res.reference, email: v.email, mailed: res.confirmation_mailed !== false };
      for (const k of FIELDS) values[k] = '';
      st.files.files = [];
      st.focus = 'done-title';
    } catch (err) {
      if (err.file) {
        st.errors.files = t('valid.file_unreadable', { name: err.file.name });
        st.focus = 'f-files';
      } else {
        // The limit may have changed since the page loaded: say the one the server applies now.
        if (err.code === 'attachment_too_large') await loadConfig();
        const e = explain(err);
        if (e.field) {
          st.errors[e.field] = e.text;
          st.focus = 'f-' + e.field;
        } else {
          st.failure = e.text;
          st.focus = 'form-failure';
        }
      }
    }
    st.busy = false;
    update();
  }

  function formView() {
    const E = st.errors;
    const c = (tag, key, props) => control(tag, key, values, E, props);
    const errorCount = Object.keys(E).length;
    return h('section', { class: 'card' },
      h('h1', { class: 'page-title' }, t('form.title')),
      h('p', { class: 'lead' }, t('form.lead')),
      st.failure ? h('div', { id: 'form-failure', tabindex: '-1' }, alert('error', st.failure)) : null,
      errorCount ? h('div', { id: 'form-errors' }, alert('error', t('form.errors_title'))) : null,
      h('form', { class: 'form', novalidate: true, onSubmit: submit, 'aria-busy': st.busy ? 'true' : null },
        h('div', { class: 'row' },
          field({ id: 'f-name', label: t('form.name'), error: E.name,
            control: c('input', 'name', { type: 'text', autocomplete: 'name', autocapitalize: 'words' }) }),
          field({ id: 'f-email', label: t('form.email'), error: E.email, hint: t('form.email_hint'),
            control: c('input', 'email', { type: 'email', autocomplete: 'email', inputmode: 'email', spellcheck: 'false' }) })),
        field({ id: 'f-order_number', label: t('form.order'), optional: true, error: E.order_number, hint: t('form.order_hint'),
          control: c('input', 'order_number', { type: 'text', autocomplete: 'off', spellcheck: 'false' }) }),
        field({ id: 'f-subject', label: t('form.subject'), error: E.subject,
          control: c('input', 'subject', { type: 'text', placeholder: t('form.subject_placeholder') }) }),
        // Other modules' help while the customer types the subject (the help centre's suggestions): the slot
        // "contact.subject" with {values (live: values.subject), input: the subject field's id}.
        ...slot('contact.subject', { values, input: 'f-subject' }),
        field({ id: 'f-body', label: t('form.message'), error: E.body,
          control: c('textarea', 'body', { rows: 7 }) }),
        filePicker('f-files', st.files, E.files, () => {
          if (E.files) {
            delete E.files;
            update();
          }
        }),
        h('button', { type: 'submit', class: 'btn btn-primary btn-block', disabled: st.busy },
          st.busy ? t('form.submitting') : t('form.submit')),
        h('p', { class: 'fine' }, t('form.privacy'), shop.privacy_url ? [' ', h('a', { href: shop.privacy_url, rel: 'noopener',
          target: '_blank', 'data-link': 'form-privacy' }, t('form.privacy_notice'))] : null)));
  }

  function doneView() {
    const d = st.done;
    return h('section', { class: 'card done' },
      h('div', { class: 'done-mark' }, icon('check')),
      h('h1', { class: 'page-title', id: 'done-title', tabindex: '-1' }, t('done.title')),
      h('p', { class: 'ref-label' }, t('done.reference')),
      h('p', { class: 'ref', 'data-reference': d.reference }, d.reference),
      h('h2', null, t('done.next_title')),
      h('ol', { class: 'steps' },
        h('li', { 'data-field': d.mailed ? 'mailed' : 'not-mailed' },
          d.mailed ? t('done.next_mail', { email: d.email }) : t('done.no_mail', { email: d.email })),
        h('li', null, t('done.next_answer')),
        h('li', null, d.mailed ? t('done.next_follow') : t('done.next_follow_no_mail'))),
      h('button', {
        type: 'button', class: 'btn btn-ghost',
        onClick() {
          st.done = null;
          st.errors = {};
          st.focus = 'f-name';
          update();
        },
      }, t('done.again')));
  }

  return {
    title: () => t(st.done ? 'done.doc_title' : 'form.doc_title'),
    view: () => (st.done ? doneView() : formView()),
    /* The element to focus after this render, once. */
    takeFocus() {
      const f = st.focus;
      st.focus = null;
      return f;
    },
  };
}
