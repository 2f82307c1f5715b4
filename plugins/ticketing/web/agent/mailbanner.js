// The admins' banner when outgoing mail is not set (mail.smtp_url and mail.from): replies and confirmations to
// customers would not leave. In the shell's slot "banner", for admins; it links to the mailboxes screen.
import { useEffect, useState } from 'preact/hooks';
import { api, html, onLinkClick, t } from '@destek/agent';

export function MailBanner() {
  const [ready, setReady] = useState(true);
  useEffect(() => {
    api('GET', '/mail/status').then((d) => setReady(!!(d && d.smtp && d.smtp.ready)), () => {});
  }, []);
  if (ready) return null;
  return html`<div class="alert alert-warning mail-banner" role="status" data-region="mail-not-configured">
    <span>${t('mail.banner_not_configured')}</span>
    <a href="/app/admin/mailboxes" onClick=${onLinkClick} class="btn btn-secondary btn-sm">${t('mail.banner_action')}</a>
  </div>`;
}
