// API tokens: create one with its scopes (the secret is shown once, with a copy button), list, revoke. A token acts
// as the admin who created it, never with more rights than that user has now: the list says when a token's owner
// was demoted or deactivated since, and which of its scopes still work.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { dateTime } from '../../format.js';
import { Empty, ErrorAlert, F, FormActions, MoreButton, SecretOnce, Section, Table, required, useConfirm, useForm,
  useList, useUsers } from './common.js';

const SCOPE_TEXT = { admin: 'admin.scope_admin', agent: 'admin.scope_agent', metrics: 'admin.scope_metrics' };

function NewToken({ onCreated }) {
  const [scopes, setScopes] = useState(['agent', 'admin', 'metrics']);
  useEffect(() => {
    api('GET', '/tokens/scopes').then((d) => { if (d && d.items && d.items.length) setScopes(d.items); }, () => {});
  }, []);
  const form = useForm('token', { name: '', scopes: ['agent'] }, {
    validate: (v) => {
      const e = required(v, ['name']);
      if (!v.scopes.length) e.scopes = t('admin.pick_scope');
      return e;
    },
  });
  const toggle = (s, on) => form.set('scopes', on ? [...form.values.scopes, s] : form.values.scopes.filter((x) => x !== s));
  const err = form.errors.scopes;
  const save = form.submit(async (v) => {
    const d = await api('POST', '/tokens', { name: v.name.trim(), scopes: v.scopes });
    form.reset({ name: '', scopes: ['agent'] });
    onCreated(d);
  });
  return html`<${Section} title=${t('admin.new_token')} id="new-token">
    <form class="form-grid" onSubmit=${save} data-form="token" novalidate>
      <${F} form=${form} name="name" label=${t('admin.f_name')} required hint=${t('admin.token_name_hint')} />
      <fieldset class=${'field field-wide' + (err ? ' field-invalid' : '')} id="token-scopes" tabindex="-1"
        aria-describedby=${err ? 'token-scopes-error' : undefined}>
        <legend>${t('admin.scopes')}</legend>
        <div class="checks">
          ${scopes.map((s) => html`<label class="check" key=${s}>
            <input type="checkbox" name="token-scope" value=${s} checked=${form.values.scopes.includes(s)}
              onChange=${(e) => toggle(s, e.currentTarget.checked)} />
            <span><code>${s}</code>${SCOPE_TEXT[s] ? html` <span class="muted small">— ${t(SCOPE_TEXT[s])}</span>` : null}</span>
          </label>`)}
        </div>
        ${err ? html`<p class="field-error" id="token-scopes-error" data-error-for="scopes">${err}</p>` : null}
      </fieldset>
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${t('admin.create')} />
    </form><//>`;
}

/* What a token can do now: its scopes as far as its owner's current role allows (the server's effective_scopes). A
 * scope it holds but cannot use is shown struck through, with why. */
function ScopesCell({ tok }) {
  const usable = tok.effective_scopes || tok.scopes || [];
  const owner = tok.owner || {};
  const held = tok.scopes || [];
  const limited = !tok.revoked && (owner.active === false || held.some((s) => !usable.includes(s)));
  return html`${held.map((s) => (usable.includes(s)
    ? html`<span class="badge mono">${s}</span> `
    : html`<s class="badge mono badge-off" title=${t('admin.scope_unusable')}>${s}</s> `))}
    ${limited ? html`<p class="muted small" data-token-limited>${owner.active === false
      ? t('admin.token_owner_inactive')
      : usable.length ? t('admin.token_limited', { scopes: usable.join(', ') }) : t('admin.token_unusable')}</p>` : null}`;
}

export function TokensScreen() {
  const list = useList('/tokens');
  const users = useUsers({ all: true });
  const owner = (id) => { const u = users.find((x) => x.id === id); return u ? u.name : '#' + id; };
  const [created, setCreated] = useState(null);
  const [ask, dialog] = useConfirm();
  const revoke = (tok) => ask({
    message: t('admin.confirm_revoke', { name: tok.name }), action: t('admin.revoke'),
    onConfirm: async () => { await api('DELETE', '/tokens/' + tok.id); await list.reload(); },
  });
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.tokens_intro')}</p>
    ${created ? html`<${SecretOnce} secret=${created.secret}
      title=${t('admin.token_created', { name: created.token ? created.token.name : '' })}
      onDone=${() => setCreated(null)} />` : null}
    <${NewToken} onCreated=${(d) => { setCreated(d); list.reload(); }} />
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_tokens')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_tokens')} items=${items}
      rowAttrs=${(tok) => ({ 'data-token': tok.name, class: tok.revoked ? 'is-muted' : undefined })}
      columns=${[
        { label: t('admin.f_name'), cell: (tok) => html`<strong>${tok.name}</strong>` },
        { label: t('admin.prefix'), cell: (tok) => html`<code>${tok.prefix}…</code>` },
        { label: t('admin.scopes'), cell: (tok) => html`<${ScopesCell} tok=${tok} />` },
        { label: t('admin.token_owner'), cell: (tok) => owner(tok.user_id) },
        { label: t('admin.created'), cell: (tok) => dateTime(tok.created_at) },
        { label: t('admin.last_used'), cell: (tok) => (tok.last_used_at ? dateTime(tok.last_used_at) : t('admin.never')) },
        { label: '', cls: 'cell-actions', cell: (tok) => (tok.revoked
          ? html`<span class="badge badge-off">${t('admin.revoked')}</span>`
          : html`<button class="btn btn-ghost btn-sm" type="button" data-action="revoke" onClick=${() => revoke(tok)}>
              ${t('admin.revoke')}</button>`) },
      ]} />` : null}
    <${MoreButton} list=${list} />
    ${dialog}
  </div>`;
}
