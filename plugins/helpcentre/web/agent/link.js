// "Insert an article link" in ticketing's composer (its slot "composer.tools", with {insert, lang, disabled}): search
// the published articles (the same search the public pages use) and insert "Title: https://…/help/a/slug?lang=xx".
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, t } from '@destek/agent';

export function ArticleLink({ insert, lang, disabled }) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const [items, setItems] = useState([]);
  const input = useRef(null);
  useEffect(() => { if (open && input.current) input.current.focus(); }, [open]);
  useEffect(() => {
    if (!open || q.trim().length < 2) { setItems([]); return undefined; }
    let live = true;
    const timer = setTimeout(async () => {
      const res = await fetch('/help/suggest?lang=' + (lang === 'en' ? 'en' : 'tr') + '&q=' + encodeURIComponent(q.trim()),
        { headers: { Accept: 'application/json' }, credentials: 'omit' });
      const body = res.ok ? await res.json() : { items: [] };
      if (live) setItems(body.items || []);
    }, 200);
    return () => { live = false; clearTimeout(timer); };
  }, [q, open]);
  const pick = (a) => {
    insert(a.title + ': ' + location.origin + '/help/a/' + a.slug + '?lang=' + a.lang);
    setOpen(false);
    setQ('');
  };
  return html`<div class="hc-link">
    <button type="button" class="btn btn-ghost btn-sm" data-action="article-link" disabled=${disabled}
      aria-expanded=${open ? 'true' : 'false'} onClick=${() => setOpen(!open)}>${t('helpcentre.insert_link')}</button>
    ${open ? html`<div class="hc-link-pop card" role="dialog" aria-label=${t('helpcentre.insert_link')}>
      <input ref=${input} type="search" value=${q} data-field="article-search" placeholder=${t('helpcentre.insert_search')}
        aria-label=${t('helpcentre.insert_search')} onInput=${(e) => setQ(e.currentTarget.value)}
        onKeyDown=${(e) => { if (e.key === 'Escape') setOpen(false); }} />
      ${items.length ? html`<ul class="hc-link-list">${items.map((a) => html`<li key=${a.slug}>
        <button type="button" data-article=${a.slug} onClick=${() => pick(a)}>${a.title}</button></li>`)}</ul>`
        : q.trim().length >= 2 ? html`<p class="muted small">${t('helpcentre.insert_none')}</p>` : null}
    </div>` : null}
  </div>`;
}
