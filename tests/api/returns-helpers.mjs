// Helpers for the returns tests: orders through the orders API, the customer's portal forms as a browser posts them.
import assert from 'node:assert/strict';

export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

/** PUT an order; delivered: an ISO time (every shipment delivered then) or null (shipped, not delivered). */
export async function putOrder(server, token, number, {email = 'ayse@example.com', phone = '0532 111 22 33',
  delivered = '2026-01-01T10:00:00+03:00', items, status = 'completed'} = {}) {
  const r = await server.api('PUT', `/api/v1/orders/${number}`, {token, body: {
    status, payment_status: 'paid', total_minor: 150000, placed_at: '2025-12-28T10:00:00Z',
    customer: {email, phone, name: 'Ayşe Yılmaz'},
    items: items || [{sku: 'TSHIRT-M', name: 'Tişört', variant: 'M', quantity: 2, price_minor: 25000},
      {sku: 'MUG', name: 'Kupa', quantity: 1, price_minor: 100000}],
    shipments: [{carrier: 'Yurtiçi Kargo', tracking_number: `T${number.replace(/\D/g, '')}`,
      status: delivered ? 'Delivered' : 'InTransit', at: delivered || '2025-12-29T10:00:00Z'}],
  }});
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.json;
}

const form = (fields) => new URLSearchParams(fields).toString();

/** POST /returns (the lookup): {status, text, sig}. */
export async function lookup(server, order, contact, lang = 'en') {
  const res = await fetch(`${server.url}/returns`, {method: 'POST', redirect: 'manual',
    headers: {'content-type': 'application/x-www-form-urlencoded'}, body: form({order, contact, lang})});
  const text = await res.text();
  const sig = (text.match(/name="sig" value="([^"]+)"/) || [])[1];
  return {status: res.status, text, sig: sig && sig.replace(/&#x2F;|&#47;/g, '/').replace(/&amp;/g, '&')};
}

/** POST /returns/new: items [{line, qty, reason, outcome, comment, variant, photos: [{name, type, data}]}]. */
export async function request(server, order, contact, items, extra = {}) {
  const l = await lookup(server, order, contact, extra.lang || 'en');
  assert.equal(l.status, 200, l.text);
  const fd = new FormData();
  fd.set('order', order); fd.set('contact', contact); fd.set('sig', l.sig); fd.set('lang', extra.lang || 'en');
  for (const it of items) {
    fd.set(`qty_${it.line}`, String(it.qty ?? 1));
    fd.set(`reason_${it.line}`, it.reason);
    fd.set(`outcome_${it.line}`, it.outcome || 'refund');
    if (it.comment) fd.set(`comment_${it.line}`, it.comment);
    if (it.variant) fd.set(`variant_${it.line}`, it.variant);
    for (const p of it.photos || []) fd.append(`photo_${it.line}`, new Blob([p.data], {type: p.type}), p.name);
  }
  if (extra.cod) fd.set('cod', '1');
  if (extra.iban) fd.set('iban', extra.iban);
  if (extra.iban_holder) fd.set('iban_holder', extra.iban_holder);
  const res = await fetch(`${server.url}/returns/new`, {method: 'POST', body: fd, redirect: 'manual'});
  const text = await res.text();
  const location = res.headers.get('location');
  const code = location && (location.match(/\/returns\/r\/(IA-[A-Z0-9]+)/) || [])[1];
  return {status: res.status, text, location, code};
}
