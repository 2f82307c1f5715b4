// The words of the module's values, named whole (the i18n check finds every key the code uses).
import { formatDate, t } from '@destek/agent';

export const STATUS = {
  requested: 'returns.st_requested', approved: 'returns.st_approved', shipped_back: 'returns.st_shipped_back',
  received: 'returns.st_received', inspected: 'returns.st_inspected', refunded: 'returns.st_refunded',
  exchanged: 'returns.st_exchanged', credited: 'returns.st_credited', rejected: 'returns.st_rejected',
};
export const REASON = {
  damaged: 'returns.r_damaged', wrong_item: 'returns.r_wrong_item', not_as_described: 'returns.r_not_as_described',
  defective: 'returns.r_defective', changed_mind: 'returns.r_changed_mind', exchange_size: 'returns.r_exchange_size',
};
export const OUTCOME = { refund: 'returns.o_refund', exchange: 'returns.o_exchange', credit: 'returns.o_credit' };
export const CONDITION = {
  as_new: 'returns.c_as_new', opened: 'returns.c_opened', used: 'returns.c_used', damaged: 'returns.c_damaged',
  missing: 'returns.c_missing',
};
export const FLAG = {
  personalised: 'returns.f_personalised', perishable: 'returns.f_perishable', hygiene: 'returns.f_hygiene',
  mixed: 'returns.f_mixed', digital: 'returns.f_digital', periodical: 'returns.f_periodical',
  service: 'returns.f_service', financial: 'returns.f_financial',
};
export const word = (map, v) => (map[v] ? t(map[v]) : v);
export const day = (sec) => (sec ? formatDate(new Date(sec * 1000).toISOString()) : '–');
export const money = (minor) => (minor === null || minor === undefined ? '–' : `${(minor / 100).toFixed(2)} TL`);
