// Shared by the dashboard and the drill-down list: names of kinds, dimensions and measures, and the formatting of
// durations and changes.
import { number, t } from '@destek/agent';

const KINDS = { ticket: 'reports.kind_ticket', csat: 'reports.kind_csat', nps: 'reports.kind_nps',
  return: 'reports.kind_return', order: 'reports.kind_order', conversation: 'reports.kind_conversation',
  campaign: 'reports.kind_campaign' };
export const KIND_ORDER = ['ticket', 'conversation', 'csat', 'nps', 'return', 'order', 'campaign'];
export const kindTitle = (kind) => (KINDS[kind] ? t(KINDS[kind]) : kind);
const DIMS = { channel: 'reports.dim_channel', team: 'reports.dim_team', agent: 'reports.dim_agent', tag: 'reports.dim_tag',
  priority: 'reports.dim_priority', reason: 'reports.dim_reason', product: 'reports.dim_product', status: 'reports.dim_status',
  carrier: 'reports.dim_carrier', province: 'reports.dim_province', survey: 'reports.dim_survey',
  campaign: 'reports.dim_campaign', shop: 'reports.dim_shop' };
export const dimTitle = (dim) => (DIMS[dim] ? t(DIMS[dim]) : dim);
const MEASURES = { frt: 'reports.avg_frt', res: 'reports.avg_res', score: 'reports.m_score',
  satisfied: 'reports.m_satisfied', promoter: 'reports.m_promoter', detractor: 'reports.m_detractor',
  delayed: 'reports.m_delayed', exception: 'reports.m_exception', returned: 'reports.m_returned',
  rejected: 'reports.m_rejected', ship: 'reports.m_ship', delivery: 'reports.m_delivery', refund: 'reports.m_refund',
  conversations: 'reports.m_conversations', messages: 'reports.m_messages', answered: 'reports.m_answered',
  campaigns: 'reports.m_campaigns', recipients: 'reports.m_recipients', sent: 'reports.m_sent',
  delivered: 'reports.m_delivered', failed: 'reports.m_failed', withheld: 'reports.m_withheld',
  unsubscribed: 'reports.m_unsubscribed', clicked: 'reports.m_clicked', clicks: 'reports.m_clicks',
  opened: 'reports.m_opened', opens: 'reports.m_opens', bounced: 'reports.m_bounced', orders: 'reports.m_orders',
  order_recipients: 'reports.m_order_recipients' };
/* Measures that are counts per fact: their sum is the figure (a campaign's sent, delivered, ...), not their average. */
export const SUMMED = ['conversations', 'messages', 'campaigns', 'recipients', 'sent', 'delivered', 'failed', 'withheld',
  'unsubscribed', 'clicked', 'clicks', 'opened', 'opens', 'bounced', 'orders', 'order_recipients'];
export const isSummed = (m) => SUMMED.includes(m) || m.startsWith('withheld_');
/* Measures whose average is a share (0..1): shown as a percentage. */
export const SHARES = ['satisfied', 'promoter', 'detractor', 'delayed', 'exception', 'rejected', 'answered'];
export const measureTitle = (m) => (MEASURES[m] ? t(MEASURES[m])
  : m.startsWith('withheld_') ? t('reports.m_withheld_reason', { reason: m.slice(9).replace(/_/g, ' ') }) : m);
const CHANNELS = { email: 'reports.channel_email', web: 'reports.channel_web', api: 'reports.channel_api',
  chat: 'reports.channel_chat', whatsapp: 'reports.channel_whatsapp', phone: 'reports.channel_phone' };
export const AGES = ['reports.age0', 'reports.age1', 'reports.age2', 'reports.age3'];

/* Seconds as "42 min", "3.5 h", "2.1 d" (tr: dk, sa, g). */
export function hours(s) {
  if (s === null || s === undefined) return '–';
  if (s < 3600) return t('reports.minutes', { n: number(Math.round(s / 60)) });
  if (s < 86400 * 2) return t('reports.hours', { n: number(Math.round(s / 360) / 10) });
  return t('reports.days', { n: number(Math.round(s / 8640) / 10) });
}

export const BUCKET_KEYS = ['reports.b0', 'reports.b1', 'reports.b2', 'reports.b3'];
export const pct = (a, b) => (b ? Math.round((1000 * a) / b) / 10 : null);
export const pctText = (v) => (v === null || v === undefined ? '–' : t('reports.percent', { n: number(v) }));

/* The change from the previous period as "+12 %" / "−5 %", or "" when there was nothing before. */
export function change(cur, prev) {
  if (cur === null || cur === undefined || !prev) return '';
  const d = Math.round(((cur - prev) / prev) * 100);
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d)} %`;
}

/* The address of the list behind a figure. */
export function drillHref(kind, range, extra = {}) {
  const q = new URLSearchParams({ kind, ...range, ...extra });
  return `/app/reports/list?${q}`;
}

/* Where one item of a kind opens in the app. */
export function itemHref(kind, item) {
  if (kind === 'ticket' || kind === 'conversation') return `/app/tickets/${item.id}`;
  if (kind === 'return') return `/app/returns/${item.id}`;
  if (kind === 'order' && item.ref) return `/app/orders/${encodeURIComponent(item.ref.replace(/^#/, ''))}`;
  return null;
}

export function valueLabel(kind, dim, row) {
  if (row.label) return row.label;
  if (row.value === 'none') return t('reports.none');
  if (dim === 'channel' && CHANNELS[row.value]) return t(CHANNELS[row.value]);
  return row.value;
}
