// The customer's orders beside a ticket: the orders linked to the ticket first (by the form's order number, a number
// in the ticket's text, or an agent), then the customer's latest orders; for the first of them, its shipments with the
// carrier's tracking link and the last checkpoints. An agent links an order by its number, and unlinks. Reads
// GET /api/v1/orders?ticket_id= and ?contact_id= (the ticket's customer is a core contact), GET /api/v1/orders/{number};
// writes POST / DELETE /api/v1/orders/{number}/tickets.
import { useEffect, useState } from 'preact/hooks';
import { api, dateTime, errorText, formatDate, html, onLinkClick, t } from '@destek/agent';
import { SHIP, STATUS, money, word } from './keys.js';

const SHOWN = 5;

export function Shipment({ s, all }) {
  const cps = s.checkpoints || [];
  const last = (all ? cps : cps.slice(-3)).slice().reverse();
  return html`<li class="orders-shipment" data-shipment=${s.id}>
    <span><strong>${s.carrier_name || s.carrier || t('orders.carrier_unknown')}</strong>
      ${' '}<span class="badge" data-status=${s.status}>${word(SHIP, s.status)}</span></span>
    ${s.tracking_number ? html`<span class="muted small break">${t('orders.tracking_no')}: ${s.tracking_url
      ? html`<a href=${s.tracking_url} target="_blank" rel="noopener noreferrer nofollow" data-field="tracking-url">${s.tracking_number}</a>`
      : s.tracking_number}</span>` : null}
    ${s.eta ? html`<span class="muted small">${t('orders.eta')}: ${formatDate(s.eta)}</span>` : null}
    ${last.length ? html`<ol class="orders-timeline">${last.map((c, i) => html`<li key=${i}>
      <time class="muted small" datetime=${c.at} title=${dateTime(c.at)}>${formatDate(c.at)}</time>
      ${' '}${word(SHIP, c.status)}${c.location ? ` · ${c.location}` : ''}${c.message ? html`<br /><span class="small">${c.message}</span>` : null}
    </li>`)}</ol>` : null}
  </li>`;
}

export function OrdersPanel({ ticket, customer }) {
  const [orders, setOrders] = useState(null);
  const [latest, setLatest] = useState(null);
  const [error, setError] = useState(null);
  const [number, setNumber] = useState('');
  const [busy, setBusy] = useState(false);
  const [seq, setSeq] = useState(0);
  const contactId = customer && customer.id;
  const ticketId = ticket && ticket.id;

  useEffect(() => {
    let gone = false;
    setError(null);
    if (!contactId && !ticketId) return undefined;
    (async () => {
      try {
        const [linkedList, own] = await Promise.all([
          ticketId ? api('GET', `/orders?ticket_id=${encodeURIComponent(ticketId)}&limit=20`) : { items: [] },
          contactId ? api('GET', `/orders?contact_id=${encodeURIComponent(contactId)}&limit=${SHOWN}`) : { items: [] },
        ]);
        if (gone) return;
        const seen = new Set(linkedList.items.map((o) => o.id));
        const list = linkedList.items.map((o) => ({ ...o, linked: true }))
          .concat(own.items.filter((o) => !seen.has(o.id)));
        setOrders(list);
        if (list.length) {
          const full = await api('GET', `/orders/${encodeURIComponent(list[0].number)}`);
          if (!gone) setLatest({ ...full, linked: !!list[0].linked });
        } else {
          setLatest(null);
        }
      } catch (e) {
        if (!gone) setError(errorText(e));
      }
    })();
    return () => { gone = true; };
  }, [contactId, ticketId, seq]);

  const link = async (e) => {
    e.preventDefault();
    const n = number.trim().replace(/^#/, '');
    if (!n || !ticketId) return;
    setBusy(true);
    try {
      await api('POST', `/orders/${encodeURIComponent(n)}/tickets`, { ticket_id: ticketId });
      setNumber('');
      setSeq((x) => x + 1);
    } catch (err) {
      setError(err.status === 404 ? t('orders.link_not_found', { number: n }) : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const unlink = async (o) => {
    try {
      await api('DELETE', `/orders/${encodeURIComponent(o.number)}/tickets/${ticketId}`);
      setSeq((x) => x + 1);
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (!contactId && !ticketId) return null;
  return html`<section class="card orders-panel" data-region="orders" aria-labelledby="orders-panel-title">
    <h2 class="h4" id="orders-panel-title">${t('orders.panel_title')}</h2>
    ${error ? html`<p class="muted small" role="alert">${error}</p>` : null}
    ${!orders ? (error ? null : html`<p class="muted small">${t('common.loading')}</p>`)
      : !orders.length ? html`<p class="muted small" data-empty="orders">${t('orders.none')}</p>`
      : html`<ul class="mini-list" data-region="orders-list">${orders.map((o) => html`<li key=${o.id} data-order=${o.number}
          data-linked=${o.linked ? 'true' : 'false'}>
          <span><a class="ref" href=${'/app/orders/' + encodeURIComponent(o.number)} onClick=${onLinkClick}>#${o.number}</a>
            ${' '}<span class="badge" data-status=${o.status}>${word(STATUS, o.status)}</span>
            ${o.linked ? html` <span class="badge orders-linked" title=${t('orders.linked_hint')}>${t('orders.linked')}</span>
              <button type="button" class="btn btn-ghost btn-sm" data-action="unlink" aria-label=${t('orders.unlink_label', { number: o.number })}
                onClick=${() => unlink(o)}>×</button>` : null}</span>
          <span class="mini-meta muted small">${money(o)} · <time datetime=${o.placed_at || o.created_at}
            title=${dateTime(o.placed_at || o.created_at)}>${formatDate(o.placed_at || o.created_at)}</time></span>
        </li>`)}</ul>`}
    ${latest ? html`<h3 class="h4">${t(latest.linked ? 'orders.linked_order' : 'orders.latest', { number: latest.number })}</h3>
      ${latest.shipments.length ? html`<ul class="mini-list" data-region="orders-shipments">${latest.shipments.map((s) =>
        html`<${Shipment} key=${s.id} s=${s} />`)}</ul>` : html`<p class="muted small">${t('orders.not_shipped')}</p>`}
      ${latest.items.length ? html`<ul class="orders-items small">${latest.items.map((it, i) => html`<li key=${i}>
        ${it.name}${it.variant ? ` (${it.variant})` : ''} × ${it.quantity}</li>`)}</ul>` : null}` : null}
    ${ticketId ? html`<form class="orders-link-form" onSubmit=${link} data-form="order-link">
      <label class="small" for="orders-link-number">${t('orders.link_label')}</label>
      <span class="row-actions"><input id="orders-link-number" class="input-sm" value=${number} autocomplete="off"
        placeholder=${t('orders.link_placeholder')} onInput=${(e) => setNumber(e.currentTarget.value)} />
      <button class="btn btn-secondary btn-sm" type="submit" disabled=${busy || !number.trim()}>${t('orders.link')}</button></span>
    </form>` : null}
  </section>`;
}
