// The server's refusals in the customer's words. The server's own messages are English and for developers, so
// the portal never shows them: it maps the code (and the field of a 422) to its own texts.
import { config } from './api.js';
import { formatSize, t } from './i18n.js';

/* {field, text} for an error that belongs under one field (field: the API's name, "files" for attachments), or
 * {text} for the rest. */
export function explain(err) {
  const L = config.limits;
  const field = err.field || '';
  if (err.status === 422 && field.startsWith('attachments')) return { field: 'files', text: t('valid.file_rejected') };
  if (err.status === 422 && field && field !== 'lang' && field !== 'sig') {
    const text = err.code === 'missing_field' ? t('valid.required')
      : field === 'email' ? t('valid.email') : t('valid.too_long');
    return { field, text };
  }
  if (err.code === 'attachment_too_large') return { field: 'files', text: t('error.too_large', { size: formatSize(L.attachment_bytes) }) };
  if (err.code === 'body_too_large') return { field: 'files', text: t('valid.files_too_large', { size: formatSize(Math.floor(L.request_bytes * 3 / 4)) }) };
  if (err.status === 429) return { text: t('error.rate_limited', { minutes: Math.max(1, Math.ceil((err.retryAfter || 600) / 60)) }) };
  // Too many large uploads at once: nothing was kept, and sending the same again shortly is the thing to do.
  if (err.code === 'server_busy') return { text: t('error.busy', { seconds: err.retryAfter || 10 }) };
  if (err.code === 'network') return { text: t('error.network') };
  if (err.status === 422) return { text: t('error.invalid') };
  return { text: t('error.unexpected') };
}
