// The agents' orders screen (/app/orders): every order, newest first, with filters — status, payment, source, carrier,
// shipment status, not shipped, late to ship (the promised dispatch date passed), delayed (an open delay notice:
// past the ETA, no scan, not shipped by the promised date), the date placed — and a search by
// number, e-mail, phone or name. Each row opens the order (/app/orders/{number}, detail.js). Reads GET /api/v1/orders.
import { useEffect, useState } from 'preact/hooks';
import { Empty, ErrorAlert, MoreButton, api, dateTime, formatDate, html, onLinkClick, t, useList } from '@destek/agent';
import { PAYMENT, SHIP, SOURCES, STATUS, money, word } from './keys.js';

const EMPTY = { q: '', status: '', payment_status: '', source: '', carrier: '', shipment_status: '', not_shipped: false,
  late: false, delayed: false, from: '', to: '' };

function Select({ name, label, value, options, onChange }) {
  return html`<label class="orders-filter">${label}
    <select data-filter=${name} value=${value} onChange=${(e) => onChange(name, e.currentTarget.value)}>
      <option value="">${t('orders.any')}</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></label>`;
}

export function OrdersPage() {
  const [filters, setFilters] = useState(EMPTY);
  const [typed, setTyped] = useState('');
  const [carriers, setCarriers] = useState([]);
  useEffect(() => {
    api('GET', '/order-carriers').then((r) => setCarriers(r.items)).catch(() => setCarriers([]));
  }, []);
  const set = (name, value) => setFilters((f) => ({ ...f, [name]: value }));
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v === true ? 'true' : v);
  const list = useList('/orders' + (q.toString() ? '?' + q : ''), { limit: 50 });
  const items = list.items || [];
  const search = (e) => { e.preventDefault(); set('q', typed.trim()); };
  const clear = () => { setFilters(EMPTY); setTyped(''); };

  return html`<main class="page orders-page" id="main">
    <div class="page-head"><h1>${t('orders.screen_title')}</h1></div>
    <form class="orders-search row-actions" role="search" onSubmit=${search}>
      <input type="search" id="orders-q" aria-label=${t('orders.search_label')} placeholder=${t('orders.search_placeholder')}
        value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} data-filter="q" />
      <button class="btn btn-primary btn-sm" type="submit">${t('orders.search')}</button>
      <button class="btn btn-ghost btn-sm" type="button" onClick=${clear} data-action="clear">${t('orders.clear')}</button>
    </form>
    <div class="orders-filters" role="group" aria-label=${t('orders.filters')}>
      <${Select} name="status" label=${t('orders.f_status')} value=${filters.status} onChange=${set}
        options=${Object.keys(STATUS).map((k) => [k, word(STATUS, k)])} />
      <${Select} name="payment_status" label=${t('orders.f_payment')} value=${filters.payment_status} onChange=${set}
        options=${Object.keys(PAYMENT).map((k) => [k, word(PAYMENT, k)])} />
      <${Select} name="source" label=${t('orders.f_source')} value=${filters.source} onChange=${set}
        options=${Object.keys(SOURCES).map((k) => [k, word(SOURCES, k)])} />
      <${Select} name="carrier" label=${t('orders.f_carrier')} value=${filters.carrier} onChange=${set}
        options=${carriers.map((c) => [c.code, c.name])} />
      <${Select} name="shipment_status" label=${t('orders.f_shipment')} value=${filters.shipment_status} onChange=${set}
        options=${Object.keys(SHIP).map((k) => [k, word(SHIP, k)])} />
      <label class="orders-filter">${t('orders.f_from')}<input type="date" data-filter="from" value=${filters.from}
        onChange=${(e) => set('from', e.currentTarget.value)} /></label>
      <label class="orders-filter">${t('orders.f_to')}<input type="date" data-filter="to" value=${filters.to}
        onChange=${(e) => set('to', e.currentTarget.value)} /></label>
      <label class="orders-check"><input type="checkbox" data-filter="not_shipped" checked=${filters.not_shipped}
        onChange=${(e) => set('not_shipped', e.currentTarget.checked)} /> ${t('orders.f_not_shipped')}</label>
      <label class="orders-check"><input type="checkbox" data-filter="late" checked=${filters.late}
        onChange=${(e) => set('late', e.currentTarget.checked)} /> ${t('orders.f_late')}</label>
      <label class="orders-check"><input type="checkbox" data-filter="delayed" checked=${filters.delayed}
        onChange=${(e) => set('delayed', e.currentTarget.checked)} /> ${t('orders.f_delayed')}</label>
    </div>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('orders.no_match')}<//>` : null}
    ${items.length ? html`<div class="orders-scroll"><table class="table orders-table" data-region="orders-table">
      <caption class="visually-hidden">${t('orders.screen_title')}</caption>
      <thead><tr><th scope="col">${t('orders.col_number')}</th><th scope="col">${t('orders.col_placed')}</th>
        <th scope="col">${t('orders.col_customer')}</th><th scope="col">${t('orders.f_status')}</th>
        <th scope="col">${t('orders.f_payment')}</th><th scope="col">${t('orders.col_total')}</th>
        <th scope="col">${t('orders.col_shipment')}</th></tr></thead>
      <tbody>${items.map((o) => html`<tr key=${o.id} data-order=${o.number}>
        <td><a href=${'/app/orders/' + encodeURIComponent(o.number)} onClick=${onLinkClick}>#${o.number}</a></td>
        <td>${o.placed_at ? html`<time datetime=${o.placed_at} title=${dateTime(o.placed_at)}>${formatDate(o.placed_at)}</time>` : ''}</td>
        <td class="break">${o.customer.name || ''}${o.customer.email ? html`<br /><span class="muted small">${o.customer.email}</span>` : null}</td>
        <td><span class="badge" data-status=${o.status}>${word(STATUS, o.status)}</span></td>
        <td>${word(PAYMENT, o.payment_status)}</td>
        <td class="num">${money(o)}</td>
        <td>${o.latest_shipment ? html`${o.latest_shipment.carrier_name || o.latest_shipment.carrier || ''}
          ${' '}<span class="badge" data-status=${o.latest_shipment.status}>${word(SHIP, o.latest_shipment.status)}</span>`
          : html`<span class="muted small">${t('orders.not_shipped')}</span>`}</td>
      </tr>`)}</tbody></table></div>` : null}
    <${MoreButton} list=${list} />
  </main>`;
}
