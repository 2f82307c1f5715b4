// The words of the orders' statuses, named whole (the i18n check finds every key the code uses).
import { t } from '@destek/agent';

export const STATUS = {
  pending: 'orders.status_pending', processing: 'orders.status_processing', on_hold: 'orders.status_on_hold',
  shipped: 'orders.status_shipped', completed: 'orders.status_completed', cancelled: 'orders.status_cancelled',
  refunded: 'orders.status_refunded', failed: 'orders.status_failed',
};
export const SHIP = {
  Pending: 'orders.ship_Pending', InfoReceived: 'orders.ship_InfoReceived', InTransit: 'orders.ship_InTransit',
  OutForDelivery: 'orders.ship_OutForDelivery', AttemptFail: 'orders.ship_AttemptFail', Delivered: 'orders.ship_Delivered',
  AvailableForPickup: 'orders.ship_AvailableForPickup', Exception: 'orders.ship_Exception', Expired: 'orders.ship_Expired',
};
export const PAYMENT = {
  pending: 'orders.pay_pending', authorized: 'orders.pay_authorized', partially_paid: 'orders.pay_partially_paid',
  paid: 'orders.pay_paid', partially_refunded: 'orders.pay_partially_refunded', refunded: 'orders.pay_refunded',
  voided: 'orders.pay_voided', failed: 'orders.pay_failed',
};
export const SOURCES = { woocommerce: 'orders.kind_woocommerce', shopify: 'orders.kind_shopify', api: 'orders.source_api',
  csv: 'orders.source_csv' };
export const HOW = { form: 'orders.how_form', text: 'orders.how_text', agent: 'orders.how_agent' };
/* Where the customer's choice of notice channel was made (orders_notify_choices.source). */
export const NOTIFY_SOURCES = { checkout: 'orders.notify_src_checkout', agent: 'orders.notify_src_agent',
  tracking_page: 'orders.notify_src_tracking_page' };

export const word = (map, v) => (map[v] ? t(map[v]) : v);

export function money(o) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: o.currency || 'TRY' }).format(o.total_minor / 100);
  } catch {
    return `${o.total} ${o.currency || ''}`;
  }
}
