// One order (/app/orders/{number}): its status, payment, amounts and customer, its items, its shipments with their
// whole timeline and tracking links, and the tickets linked to it (unlinking one). Reads GET /api/v1/orders/{number}
// and GET /api/v1/orders/{number}/tickets.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, dateTime, errorText, formatDate, html, onLinkClick, t } from '@destek/agent';
import { HOW, NOTIFY_SOURCES, PAYMENT, SOURCES, STATUS, money, word } from './keys.js';
import { Shipment } from './panel.js';

function Row({ label, children }) {
  return html`<div class="orders-row"><dt>${label}</dt><dd>${children}</dd></div>`;
}

export function OrderPage({ number }) {
  const [order, setOrder] = useState(null);
  const [tickets, setTickets] = useState(null);
  const [err, setErr] = useState(null);
  const [seq, setSeq] = useState(0);
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const [o, tk] = await Promise.all([api('GET', `/orders/${encodeURIComponent(number)}`),
          api('GET', `/orders/${encodeURIComponent(number)}/tickets`)]);
        if (!gone) { setOrder(o); setTickets(tk.items); setErr(null); }
      } catch (e) {
        if (!gone) setErr(e);
      }
    })();
    return () => { gone = true; };
  }, [number, seq]);
  const unlink = async (tk) => {
    try {
      await api('DELETE', `/orders/${encodeURIComponent(number)}/tickets/${tk.id}`);
      setSeq((x) => x + 1);
    } catch (e) { setErr(e); }
  };
  if (err && !order) {
    return html`<main class="page" id="main"><p><a href="/app/orders" onClick=${onLinkClick}>← ${t('orders.screen_title')}</a></p>
      <${Alert}>${err.status === 404 ? t('orders.not_found') : errorText(err)}<//></main>`;
  }
  if (!order) return html`<main class="page" id="main"><p class="muted">${t('common.loading')}</p></main>`;
  const c = order.customer, a = order.shipping_address;
  return html`<main class="page orders-detail" id="main" data-order=${order.number}>
    <p><a href="/app/orders" onClick=${onLinkClick}>← ${t('orders.screen_title')}</a></p>
    <div class="page-head"><h1>${t('orders.order_title', { number: order.number })}</h1>
      <span class="badge" data-status=${order.status}>${word(STATUS, order.status)}</span></div>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    <div class="orders-grid">
      <section class="card" aria-labelledby="order-summary"><h2 class="h4" id="order-summary">${t('orders.summary')}</h2>
        <dl class="orders-dl">
          <${Row} label=${t('orders.f_payment')}>${word(PAYMENT, order.payment_status)}<//>
          <${Row} label=${t('orders.col_total')}>${money(order)}<//>
          <${Row} label=${t('orders.f_source')}>${word(SOURCES, order.source)}<//>
          <${Row} label=${t('orders.col_placed')}>${order.placed_at ? dateTime(order.placed_at) : '—'}<//>
          ${order.promised_dispatch_date ? html`<${Row} label=${t('orders.promised')}>${formatDate(order.promised_dispatch_date)}<//>` : null}
          ${order.shipping_method ? html`<${Row} label=${t('orders.method')}>${order.shipping_method}<//>` : null}
          ${order.notify ? html`<${Row} label=${t('orders.notify')}><span data-field="notify">${order.notify.channel === 'whatsapp'
            ? `WhatsApp ${order.notify.phone || ''}` : t('orders.notify_email')} · ${word(NOTIFY_SOURCES, order.notify.source)}</span><//>` : null}
          <${Row} label=${t('orders.col_customer')}><span class="break">${c.name || ''}${c.email ? html`<br />${c.email}` : null}${c.phone ? html`<br />+${c.phone}` : null}</span><//>
          ${a.province || a.district ? html`<${Row} label=${t('orders.destination')}>${[a.district, a.province].filter(Boolean).join(', ')}<//>` : null}
        </dl></section>
      <section class="card" aria-labelledby="order-items"><h2 class="h4" id="order-items">${t('orders.items')}</h2>
        ${order.items.length ? html`<table class="table" data-region="order-items"><thead><tr><th>${t('orders.item')}</th>
          <th>${t('orders.qty')}</th><th class="num">${t('orders.price')}</th></tr></thead><tbody>
          ${order.items.map((it, i) => html`<tr key=${i}><td>${it.name}${it.variant ? ` (${it.variant})` : ''}${it.sku ? html`<br /><span class="muted small">${it.sku}</span>` : null}</td>
            <td>${it.quantity}</td><td class="num">${it.price} ${order.currency}</td></tr>`)}</tbody></table>`
          : html`<p class="muted small">${t('orders.no_items')}</p>`}</section>
      <section class="card" aria-labelledby="order-shipments"><h2 class="h4" id="order-shipments">${t('orders.shipments')}</h2>
        ${order.shipments.length ? html`<ul class="mini-list orders-panel" data-region="order-shipments">${order.shipments.map((s) =>
          html`<${Shipment} key=${s.id} s=${s} all=${true} />`)}</ul>` : html`<p class="muted small">${t('orders.not_shipped')}</p>`}</section>
      <section class="card" aria-labelledby="order-tickets"><h2 class="h4" id="order-tickets">${t('orders.tickets')}</h2>
        ${tickets && tickets.length ? html`<ul class="mini-list" data-region="order-tickets">${tickets.map((tk) => html`<li key=${tk.id} data-ticket=${tk.id}>
          <span><a href=${'/app/tickets/' + tk.id} onClick=${onLinkClick}>${tk.reference}</a> ${tk.subject}</span>
          <span class="mini-meta muted small">${word(HOW, tk.link.how)} · ${formatDate(tk.link.created_at)}
            <button type="button" class="btn btn-ghost btn-sm" data-action="unlink" onClick=${() => unlink(tk)}
              aria-label=${t('orders.unlink_ticket', { reference: tk.reference })}>${t('orders.unlink')}</button></span>
        </li>`)}</ul>` : html`<p class="muted small" data-empty="order-tickets">${t('orders.no_tickets')}</p>`}</section>
    </div>
  </main>`;
}
