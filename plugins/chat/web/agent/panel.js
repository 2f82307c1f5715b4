// ChatPanel({ticket}): for a ticket of the channel chat, GET /api/v1/chat/tickets/{id} (visitor, typing, read mark;
// the agent's own read mark is sent while the panel is shown); for whatsapp, GET /api/v1/chat/whatsapp/tickets/{id}
// (the window, statuses) and the template form (POST .../template). Nothing for other channels.
import { useEffect, useState } from 'preact/hooks';
import { api, dateTime, errorText, html, t, useLiveRefresh } from '@destek/agent';

const TICKS = { queued: '…', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '✗', received: '' };
const STATUS = { queued: 'chat.wa_status_queued', sent: 'chat.wa_status_sent', delivered: 'chat.wa_status_delivered',
  read: 'chat.wa_status_read', failed: 'chat.wa_status_failed' };

function useTicker(ms) {
  const [, set] = useState(0);
  useEffect(() => { const i = setInterval(() => set((x) => x + 1), ms); return () => clearInterval(i); }, [ms]);
}

function LiveChat({ ticket }) {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const j = await api('GET', `/chat/tickets/${ticket.id}`);
      setInfo(j);
      setError(null);
      if (j.status === 'open' && j.agent_read_seq < j.last_seq) api('POST', `/chat/tickets/${ticket.id}/read`).catch(() => {});
    } catch (e) {
      setError(e.status === 404 ? null : errorText(e));
      if (e.status === 404) setInfo(false);
    }
  };
  useEffect(() => { load(); const i = setInterval(() => { if (!document.hidden) load(); }, 2000); return () => clearInterval(i); }, [ticket.id]);
  useLiveRefresh(load, { match: (f) => f.subject === `ticket:${ticket.id}` }, [ticket.id]);
  if (info === false) return null;
  return html`<section class="card chat-panel" data-panel="chat" aria-labelledby="chat-panel-title">
    <h3 id="chat-panel-title">${t('chat.panel_title')}</h3>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${info ? html`<p data-field="chat-status">${info.status === 'open' ? t('chat.open') : t('chat.ended')}
        ${info.shop ? html` · <span class="muted">${info.shop}</span>` : null}</p>
      <p class="small">${info.visitor.identified ? t('chat.identified') : t('chat.anonymous')}</p>
      <p class="small" aria-live="polite" data-field="chat-typing">${info.visitor_typing ? t('chat.visitor_typing') : ''}</p>
      ${info.last_seq > 0 && info.visitor_read_seq >= info.last_seq
        ? html`<p class="small muted" data-field="chat-read">${t('chat.visitor_read')}</p>` : null}` : html`<p class="muted">…</p>`}
  </section>`;
}

function WhatsApp({ ticket }) {
  const [info, setInfo] = useState(null);
  const [templates, setTemplates] = useState([]);
  const [choice, setChoice] = useState('');
  const [params, setParams] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useTicker(60000);
  const load = async () => {
    try {
      setInfo(await api('GET', `/chat/whatsapp/tickets/${ticket.id}`));
      setError(null);
    } catch (e) {
      if (e.status === 404) setInfo(false); else setError(errorText(e));
    }
  };
  useEffect(() => {
    load();
    api('GET', '/chat/whatsapp/templates').then((j) => setTemplates(j.items), () => setTemplates([]));
    const i = setInterval(() => { if (!document.hidden) load(); }, 5000);
    return () => clearInterval(i);
  }, [ticket.id]);
  useLiveRefresh(load, { match: (f) => f.subject === `ticket:${ticket.id}` }, [ticket.id]);
  if (info === false) return null;
  const send = async (e) => {
    e.preventDefault();
    const tpl = templates[Number(choice)];
    if (!tpl) return;
    setBusy(true);
    try {
      const parameters = params.split('\n').map((s) => s.trim()).filter(Boolean);
      await api('POST', `/chat/whatsapp/tickets/${ticket.id}/template`, { name: tpl.name, language: tpl.language, parameters });
      setParams('');
      setChoice('');
      load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const out = info ? info.messages.filter((m) => m.direction === 'out').slice(-5) : [];
  const left = info ? Math.max(0, Date.parse(info.window_closes_at) - Date.now()) : 0;
  return html`<section class="card chat-panel" data-panel="whatsapp" aria-labelledby="wa-panel-title">
    <h3 id="wa-panel-title">${t('chat.wa_title')}</h3>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${info ? html`<p data-field="wa-window" class=${info.window_open ? '' : 'error'}>${info.window_open
        ? t('chat.wa_window_open', { hours: Math.floor(left / 3600000), minutes: Math.floor(left / 60000) % 60 })
        : t('chat.wa_window_closed')}</p>
      ${out.length ? html`<ul class="chat-statuses">${out.map((m) => html`<li key=${m.id} data-status=${m.status}>
        <span aria-hidden="true" class=${m.status === 'read' ? 'chat-read' : ''}>${TICKS[m.status] || ''}</span>
        ${' '}<span class="small">${m.kind === 'template' ? t('chat.wa_template') : m.body.slice(0, 60)}</span>
        ${' '}<span class="small muted" title=${dateTime(m.created_at)}>${STATUS[m.status] ? t(STATUS[m.status]) : m.status}</span>
        ${m.error_code ? html`<br /><span class="small error">${m.error_code} ${m.error_title || ''}</span>` : null}
      </li>`)}</ul>` : null}
      ${templates.length ? html`<form onSubmit=${send} class="chat-template">
        <label for="wa-tpl">${t('chat.wa_pick_template')}</label>
        <select id="wa-tpl" value=${choice} onChange=${(e) => setChoice(e.target.value)}>
          <option value="">—</option>
          ${templates.map((tp, i) => html`<option value=${String(i)}>${tp.name} (${tp.language})</option>`)}
        </select>
        <label for="wa-params">${t('chat.wa_params')}</label>
        <textarea id="wa-params" rows="2" value=${params} onInput=${(e) => setParams(e.target.value)}></textarea>
        <button type="submit" class="btn" disabled=${busy || choice === ''}>${t('chat.wa_send_template')}</button>
      </form>` : null}` : html`<p class="muted">…</p>`}
  </section>`;
}

export function ChatPanel({ ticket }) {
  if (!ticket) return null;
  if (ticket.channel === 'chat') return html`<${LiveChat} ticket=${ticket} />`;
  if (ticket.channel === 'whatsapp') return html`<${WhatsApp} ticket=${ticket} />`;
  return null;
}
