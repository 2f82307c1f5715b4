// /t/{number}?sig=...: the customer's page of one ticket, opened from the link in our mails. It shows the status
// and the customer's public thread (the API leaves out internal notes, and another customer's part of a ticket
// theirs was merged into), the files with their signed download links, and a reply box; a wrong or missing
// signature is "not found", like an unknown number.
import { alert, api, checkFiles, config, control, explain, field, filePicker, fill, formatDate, formatSize, h, icon, linkify,
  loadConfig, readFiles, slot, t, utf8Bytes } from '@destek/portal';

const REFRESH_MS = 60000;

/* number: the reference without "#"; sig: the link's signature. onLang(lang) tells the shell the customer's
 * language once the ticket is known. */
export function ticketPage(number, sig, update, onLang) {
  const st = {
    number, sig, view: null, missing: false, loadFailed: null,
    values: { body: '' }, files: { files: [] }, errors: {}, failure: null, notice: null, busy: false, focus: null,
  };
  let head = null; // the parts a refresh redraws (never the reply box, which may hold half a message)
  let thread = null;

  const path = () => '/public/tickets/' + st.number + '?sig=' + encodeURIComponent(st.sig);

  function load(quiet) {
    return api('GET', path()).then((view) => {
      const changed = !st.view || st.view.updated_at !== view.updated_at || st.view.status !== view.status;
      const first = !st.view;
      st.view = view;
      st.loadFailed = null;
      if (first) {
        onLang(view.lang);
        update();
      } else if (changed && head) {
        redraw();
      }
    }, (err) => {
      if (quiet) return;
      if (err.status === 404) st.missing = true;
      else st.loadFailed = explain(err).text;
      update();
    });
  }

  if (!/^\d{1,18}$/.test(number) || !/^[0-9a-f]{64}$/.test(sig || '')) st.missing = true;
  else {
    load(false);
    setInterval(() => { if (document.visibilityState === 'visible' && st.view) load(true); }, REFRESH_MS);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && st.view) load(true);
    });
  }

  function hint(v) {
    // Only a request merged into another of the same customer's says so (with its link); one merged into another
    // customer's carries on here as it was, showing this customer's part of the conversation.
    if (v.merged_into) {
      return alert('info', h('p', null, t('ticket.merged', { reference: v.merged_into })),
        h('p', null, h('a', { href: v.merged_into_link, class: 'alert-link' },
          t('ticket.merged_open', { reference: v.merged_into }))));
    }
    if (v.status === 'solved') return alert('success', t('ticket.solved_hint'));
    if (v.status === 'closed') return alert('info', t('ticket.closed_hint'));
    if (v.status === 'pending') return alert('warning', t('ticket.pending_hint'));
    return null;
  }

  function headParts(v) {
    return [
      h('p', { class: 'eyebrow' }, t('ticket.reference', { reference: v.reference })),
      h('h1', { class: 'page-title subject', id: 'ticket-title', tabindex: '-1' }, v.subject),
      h('div', { class: 'meta' },
        h('span', { class: 'badge status-' + v.status, 'data-status': v.status },
          h('span', { class: 'visually-hidden' }, t('ticket.status') + ': '), t('status.' + v.status)),
        h('span', null, t('ticket.opened', { date: formatDate(v.created_at) })),
        v.updated_at !== v.created_at ? h('span', null, t('ticket.updated', { date: formatDate(v.updated_at) })) : null),
      hint(v),
      // Other modules' part of the ticket's head (feedback's "How did we do?" on a solved ticket).
      ...slot('ticket.head', { ticket: v, number, sig, update }),
    ];
  }

  function author(m) {
    if (m.author.type === 'customer') return [t('ticket.you'), null];
    if (m.author.type === 'user') return [m.author.name || t('ticket.team'), t('ticket.team')];
    return [t('ticket.automatic'), null];
  }

  function message(m) {
    const [name, role] = author(m);
    const side = m.kind === 'customer' ? 'msg-customer' : m.author.type === 'user' ? 'msg-team' : 'msg-auto';
    return h('li', { class: 'msg ' + side, 'data-kind': m.kind },
      h('div', { class: 'msg-head' },
        h('strong', { class: 'msg-author' }, name),
        role ? h('span', { class: 'msg-role' }, role) : null,
        h('time', { datetime: m.created_at }, formatDate(m.created_at))),
      // Web addresses become links only in what the shop wrote: the customer's messages are whatever was typed
      // into the form, maybe by someone else, and this page is reached from the shop's own acknowledgement mail.
      h('div', { class: 'msg-body' }, m.kind === 'customer' ? m.body : linkify(m.body)),
      m.attachments && m.attachments.length ? h('ul', { class: 'atts', 'aria-label': t('ticket.files') },
        m.attachments.map((a) => h('li', null,
          h('a', { href: a.url, download: a.filename, class: 'att', 'aria-label': t('ticket.download', { name: a.filename, size: formatSize(a.size) }) },
            icon('file'), h('span', { class: 'file-name' }, a.filename), h('span', { class: 'file-size' }, formatSize(a.size)))))) : null);
  }

  function threadParts(v) {
    return [
      h('h2', { class: 'visually-hidden' }, t('ticket.thread')),
      h('ol', { class: 'messages' }, v.messages.map(message)),
    ];
  }

  function redraw() {
    fill(head, headParts(st.view));
    fill(thread, threadParts(st.view));
  }

  async function submit(event) {
    event.preventDefault();
    if (st.busy) return;
    const text = st.values.body.trim();
    const errors = {};
    if (!text) errors.body = t('valid.required');
    else if (utf8Bytes(text) > config.limits.body_bytes) errors.body = t('valid.too_long');
    const files = checkFiles(st.files.files, utf8Bytes(text));
    if (files) errors.files = files;
    st.errors = errors;
    st.failure = null;
    st.notice = null;
    if (errors.body || errors.files) {
      st.focus = errors.body ? 'r-body' : 'r-files';
      return update();
    }
    st.busy = true;
    update();
    try {
      const body = { body: text, sig: st.sig };
      if (st.files.files.length) body.attachments = await readFiles(st.files.files);
      const view = await api('POST', '/public/tickets/' + st.number + '/messages', body);
      const moved = view.reference !== st.view.reference;
      if (moved && view.link) {
        // Merged into a ticket of the same customer: this page follows the conversation there.
        history.replaceState(null, '', view.link);
        const u = new URL(view.link, location.origin);
        st.number = u.pathname.split('/').pop();
        st.sig = u.searchParams.get('sig');
      }
      st.notice = t('reply.sent');
      st.view = view;
      st.values.body = '';
      st.files.files = [];
      st.focus = 'reply-notice';
    } catch (err) {
      if (err.file) {
        st.errors.files = t('valid.file_unreadable', { name: err.file.name });
        st.focus = 'r-files';
      } else if (err.status === 404) {
        st.missing = true;
      } else {
        // The limit may have changed since the page loaded: say the one the server applies now.
        if (err.code === 'attachment_too_large') await loadConfig();
        const e = explain(err);
        if (e.field === 'files' || e.field === 'body') {
          st.errors[e.field] = e.text;
          st.focus = 'r-' + e.field;
        } else {
          st.failure = e.text;
          st.focus = 'reply-failure';
        }
      }
    }
    st.busy = false;
    update();
  }

  function replyView(v) {
    const E = st.errors;
    return h('section', { class: 'card reply', 'aria-labelledby': 'reply-title' },
      h('h2', { id: 'reply-title' }, t('reply.title')),
      st.notice ? h('div', { id: 'reply-notice', tabindex: '-1' }, alert('success', st.notice)) : null,
      st.failure ? h('div', { id: 'reply-failure', tabindex: '-1' }, alert('error', st.failure)) : null,
      h('form', { class: 'form', novalidate: true, onSubmit: submit },
        field({ id: 'r-body', label: t('reply.label'), error: E.body,
          control: control('textarea', 'body', st.values, E, { rows: 5 }) }),
        filePicker('r-files', st.files, E.files, () => {
          if (E.files) {
            delete E.files;
            update();
          }
        }),
        h('button', { type: 'submit', class: 'btn btn-primary', disabled: st.busy },
          st.busy ? t('reply.submitting') : t('reply.submit'))));
  }

  function notFoundView() {
    return h('section', { class: 'card empty' },
      h('h1', { class: 'page-title', id: 'nf-title', tabindex: '-1' }, t('notfound.title')),
      h('p', { class: 'lead' }, t('notfound.body')),
      h('a', { href: '/contact', class: 'btn btn-primary' }, t('notfound.contact')));
  }

  return {
    title: () => (st.missing ? t('notfound.doc_title') : st.view ? t('ticket.doc_title', { reference: st.view.reference }) : t('app.loading')),
    view() {
      head = thread = null;
      if (st.missing) return notFoundView();
      if (st.loadFailed) {
        return h('section', { class: 'card' }, alert('error', st.loadFailed),
          h('button', { type: 'button', class: 'btn btn-ghost', onClick: () => load(false) }, t('ticket.refresh')));
      }
      if (!st.view) return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('app.loading'));
      head = h('section', { class: 'card ticket-head' }, headParts(st.view));
      thread = h('section', { class: 'thread', 'aria-label': t('ticket.thread') }, threadParts(st.view));
      return [head, thread, replyView(st.view)];
    },
    takeFocus() {
      const f = st.focus;
      st.focus = null;
      return f;
    },
  };
}
