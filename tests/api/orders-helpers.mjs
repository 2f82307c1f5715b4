// Shared by the orders tests: platform payloads in the shapes WooCommerce and Shopify document, and signed deliveries.
import crypto from 'node:crypto';
import {request} from './lib.mjs';

export const WOO_SECRET = 'wc-secret-ş-1';
export const SHOP_SECRET = 'shpss_0123456789abcdef';

export const sign = (secret, body) => crypto.createHmac('sha256', secret).update(body).digest('base64');

/** A WooCommerce order as GET /wp-json/wc/v3/orders/<id> (and its webhooks) give it. */
export function wooOrder(id, over = {}) {
  return {
    id, parent_id: 0, number: String(id), order_key: `wc_order_${id}`, created_via: 'checkout', version: '9.4.2',
    status: 'processing', currency: 'TRY',
    date_created: '2025-03-01T14:05:11', date_created_gmt: '2025-03-01T11:05:11',
    date_modified: '2025-03-01T14:05:12', date_modified_gmt: '2025-03-01T11:05:12',
    discount_total: '0.00', discount_tax: '0.00', shipping_total: '29.90', shipping_tax: '0.00', cart_tax: '0.00',
    total: '579.80', total_tax: '0.00', prices_include_tax: true, customer_id: 12,
    billing: {first_name: 'Ayşe', last_name: 'Yılmaz', company: '', address_1: 'Bağdat Cd. 10', address_2: '',
      city: 'Kadıköy', state: 'TR34', postcode: '34710', country: 'TR', email: 'Ayse@Example.com', phone: '0532 123 45 67'},
    shipping: {first_name: 'Ayşe', last_name: 'Yılmaz', company: '', address_1: 'Bağdat Cd. 10', address_2: 'D:5',
      city: 'Kadıköy', state: 'TR34', postcode: '34710', country: 'TR', phone: ''},
    payment_method: 'iyzico', payment_method_title: 'Kredi kartı', transaction_id: 'x1',
    date_paid: '2025-03-01T14:05:12', date_paid_gmt: '2025-03-01T11:05:12', date_completed: null, date_completed_gmt: null,
    meta_data: [],
    line_items: [{id: 315, name: 'Keten Gömlek - M', product_id: 93, variation_id: 95, quantity: 1, tax_class: '',
      subtotal: '549.90', total: '549.90', sku: 'KG-M', price: 549.9,
      meta_data: [{id: 1, key: 'pa_beden', value: 'm', display_key: 'Beden', display_value: 'M'}]}],
    shipping_lines: [{id: 316, method_title: 'Yurtiçi Kargo', method_id: 'flat_rate', total: '29.90'}],
    ...over,
  };
}

/** A Shopify order (orders/create, orders/updated). */
export function shopifyOrder(id, n, over = {}) {
  return {
    id, admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${n}`, order_number: n, number: n - 1000,
    email: 'mehmet@example.com', phone: null, contact_email: 'mehmet@example.com',
    created_at: '2025-03-02T10:00:00+03:00', updated_at: '2025-03-02T10:00:05+03:00', processed_at: '2025-03-02T10:00:00+03:00',
    closed_at: null, cancelled_at: null, cancel_reason: null,
    currency: 'TRY', total_price: '1249.00', subtotal_price: '1249.00', total_discounts: '50.00',
    financial_status: 'paid', fulfillment_status: null,
    customer: {id: 77, email: 'mehmet@example.com', first_name: 'Mehmet', last_name: 'Demir', phone: '+905551112233'},
    shipping_address: {name: 'Mehmet Demir', address1: 'Atatürk Cd. 5', address2: null, city: 'Çankaya',
      province: 'Ankara', country: 'Turkey', country_code: 'TR', zip: '06690', phone: '+905551112233'},
    line_items: [{id: 1, product_id: 2, variant_id: 3, title: 'Bornoz', variant_title: 'L / Beyaz', sku: 'BRN-L',
      quantity: 1, price: '1299.00'}],
    shipping_lines: [{id: 9, title: 'Standart', price: '0.00', code: 'standard'}],
    fulfillments: [], order_status_url: 'https://shop.example/orders/x',
    ...over,
  };
}

/** A Shopify fulfillment (fulfillments/create, fulfillments/update). */
export function shopifyFulfillment(id, orderId, over = {}) {
  return {
    id, order_id: orderId, name: '#1001.1', status: 'success', service: 'manual',
    created_at: '2025-03-03T09:00:00+03:00', updated_at: '2025-03-03T09:00:00+03:00',
    tracking_company: 'Aras Kargo', tracking_number: '1234567890123', tracking_numbers: ['1234567890123'],
    tracking_url: 'https://kargotakip.araskargo.com.tr/mainpage.aspx?code=1234567890123',
    tracking_urls: ['https://kargotakip.araskargo.com.tr/mainpage.aspx?code=1234567890123'],
    shipment_status: null, line_items: [],
    ...over,
  };
}

let deliverySeq = 0;

/** POSTs a WooCommerce delivery as its Hookshot sends it; opts.secret (default the right one), opts.signature. */
export function wooDeliver(server, sourceId, order, opts = {}) {
  const body = JSON.stringify(order).replace(/\//g, '\\/');
  const headers = {
    'content-type': 'application/json', 'user-agent': 'WooCommerce/9.4.2 Hookshot (WordPress/6.7)',
    'x-wc-webhook-source': 'https://shop.example/', 'x-wc-webhook-topic': opts.topic || 'order.updated',
    'x-wc-webhook-resource': 'order', 'x-wc-webhook-event': 'updated', 'x-wc-webhook-id': '7',
    'x-wc-webhook-delivery-id': crypto.randomBytes(16).toString('hex'),
  };
  const sig = opts.signature !== undefined ? opts.signature : sign(opts.secret || WOO_SECRET, body);
  if (sig !== null) headers['x-wc-webhook-signature'] = sig;
  return request(`${server.url}/api/v1/order-sources/${sourceId}/webhook`, {method: 'POST', headers, body})
    .then((r) => ({...r, json: safeJson(r.text)}));
}

/** POSTs a Shopify delivery; opts: topic, eventId, webhookId, secret, signature. */
export function shopifyDeliver(server, sourceId, payload, opts = {}) {
  const body = JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json', 'x-shopify-topic': opts.topic || 'orders/create',
    'x-shopify-shop-domain': 'demo.myshopify.com', 'x-shopify-api-version': '2025-10',
    'x-shopify-webhook-id': opts.webhookId || `wh-${++deliverySeq}`,
    'x-shopify-triggered-at': new Date().toISOString(),
  };
  if (opts.eventId !== null) headers['x-shopify-event-id'] = opts.eventId || `ev-${++deliverySeq}`;
  const sig = opts.signature !== undefined ? opts.signature : sign(opts.secret || SHOP_SECRET, body);
  if (sig !== null) headers['x-shopify-hmac-sha256'] = sig;
  return request(`${server.url}/api/v1/order-sources/${sourceId}/webhook`, {method: 'POST', headers, body})
    .then((r) => ({...r, json: safeJson(r.text)}));
}

function safeJson(t) { try { return JSON.parse(t); } catch { return null; } }
