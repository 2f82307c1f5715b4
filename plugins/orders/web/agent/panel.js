// The customer's orders beside a ticket: their latest orders (status, total, date) and, for the newest, its
// shipments with the carrier's tracking link and the last checkpoints. Reads GET /api/v1/orders?contact_id= (the
// ticket's customer is a core contact) and GET /api/v1/orders/{number}.
import { useEffect, useState } from 'preact/hooks';
import { api, dateTime, errorText, formatDate, html, t } from '@destek/agent';

const SHOWN = 5;
// The words of the statuses, named whole (the i18n check finds every key the code uses).
const STATUS = {
  pending: 'orders.status_pending', processing: 'orders.status_processing', on_hold: 'orders.status_on_hold',
  shipped: 'orders.status_shipped', completed: 'orders.status_completed', cancelled: 'orders.status_cancelled',
  refunded: 'orders.status_refunded', failed: 'orders.status_failed',
};
const SHIP = {
  Pending: 'orders.ship_Pending', InfoReceived: 'orders.ship_InfoReceived', InTransit: 'orders.ship_InTransit',
  OutForDelivery: 'orders.ship_OutForDelivery', AttemptFail: 'orders.ship_AttemptFail', Delivered: 'orders.ship_Delivered',
  AvailableForPickup: 'orders.ship_AvailableForPickup', Exception: 'orders.ship_Exception', Expired: 'orders.ship_Expired',
};
const word = (map, v) => (map[v] ? t(map[v]) : v);

function money(o) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: o.currency || 'TRY' }).format(o.total_minor / 100);
  } catch {
    return `${o.total} ${o.currency || ''}`;
  }
}

function Shipment({ s }) {
  const last = (s.checkpoints || []).slice(-3).reverse();
  return html`<li class="orders-shipment" data-shipment=${s.id}>
    <span><strong>${s.carrier_name || s.carrier || t('orders.carrier_unknown')}</strong>
      ${' '}<span class="badge" data-status=${s.status}>${word(SHIP, s.status)}</span></span>
    ${s.tracking_number ? html`<span class="muted small break">${t('orders.tracking_no')}: ${s.tracking_url
      ? html`<a href=${s.tracking_url} target="_blank" rel="noopener noreferrer nofollow">${s.tracking_number}</a>`
      : s.tracking_number}</span>` : null}
    ${last.length ? html`<ol class="orders-timeline">${last.map((c, i) => html`<li key=${i}>
      <time class="muted small" datetime=${c.at} title=${dateTime(c.at)}>${formatDate(c.at)}</time>
      ${' '}${word(SHIP, c.status)}${c.location ? ` · ${c.location}` : ''}${c.message ? html`<br /><span class="small">${c.message}</span>` : null}
    </li>`)}</ol>` : null}
  </li>`;
}

export function OrdersPanel({ customer }) {
  const [orders, setOrders] = useState(null);
  const [latest, setLatest] = useState(null);
  const [error, setError] = useState(null);
  const contactId = customer && customer.id;

  useEffect(() => {
    let gone = false;
    setOrders(null);
    setLatest(null);
    setError(null);
    if (!contactId) return undefined;
    (async () => {
      try {
        const list = await api('GET', `/orders?contact_id=${encodeURIComponent(contactId)}&limit=${SHOWN}`);
        if (gone) return;
        setOrders(list.items);
        if (list.items.length) {
          const full = await api('GET', `/orders/${encodeURIComponent(list.items[0].number)}`);
          if (!gone) setLatest(full);
        }
      } catch (e) {
        if (!gone) setError(errorText(e));
      }
    })();
    return () => { gone = true; };
  }, [contactId]);

  if (!contactId) return null;
  return html`<section class="card orders-panel" data-region="orders" aria-labelledby="orders-panel-title">
    <h2 class="h4" id="orders-panel-title">${t('orders.panel_title')}</h2>
    ${error ? html`<p class="muted small" role="alert">${error}</p>`
      : !orders ? html`<p class="muted small">${t('common.loading')}</p>`
      : !orders.length ? html`<p class="muted small" data-empty="orders">${t('orders.none')}</p>`
      : html`<ul class="mini-list" data-region="orders-list">${orders.map((o) => html`<li key=${o.id} data-order=${o.number}>
          <span><span class="ref">#${o.number}</span> <span class="badge" data-status=${o.status}>${word(STATUS, o.status)}</span></span>
          <span class="mini-meta muted small">${money(o)} · <time datetime=${o.placed_at || o.created_at}
            title=${dateTime(o.placed_at || o.created_at)}>${formatDate(o.placed_at || o.created_at)}</time></span>
        </li>`)}</ul>`}
    ${latest ? html`<h3 class="h4">${t('orders.latest', { number: latest.number })}</h3>
      ${latest.shipments.length ? html`<ul class="mini-list" data-region="orders-shipments">${latest.shipments.map((s) =>
        html`<${Shipment} key=${s.id} s=${s} />`)}</ul>` : html`<p class="muted small">${t('orders.not_shipped')}</p>`}
      ${latest.items.length ? html`<ul class="orders-items small">${latest.items.map((it, i) => html`<li key=${i}>
        ${it.name}${it.variant ? ` (${it.variant})` : ''} × ${it.quantity}</li>`)}</ul>` : null}` : null}
  </section>`;
}
