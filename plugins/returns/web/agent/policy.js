// Admin → Returns policy: the rules in force explained in plain words (from the policy's settings), and the products
// excepted from the withdrawal right (art. 15) by SKU.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, t } from '@destek/agent';
import { FLAG, word } from './words.js';

export function PolicyScreen() {
  const [rules, setRules] = useState(null);
  const [flags, setFlags] = useState([]);
  const [sku, setSku] = useState('');
  const [pick, setPick] = useState({});
  const [err, setErr] = useState(null);
  const load = () => Promise.all([api('GET', '/returns/policy'), api('GET', '/returns/product-flags')])
    .then(([p, f]) => { setRules(p.rules); setFlags(f.items); }, (e) => setErr(errorText(e)));
  useEffect(() => { load(); }, []);
  const save = async (e) => {
    e.preventDefault();
    try {
      await api('PUT', `/returns/product-flags/${encodeURIComponent(sku.trim())}`, { flags: Object.keys(pick).filter((k) => pick[k]) });
      setSku(''); setPick({}); load();
    } catch (x) { setErr(errorText(x)); }
  };
  return html`<section class="returns-policy">
    <h2>${t('returns.policy_title')}</h2>
    ${err ? html`<${Alert}>${err}<//>` : null}
    ${rules ? html`<ol data-region="rules">${rules.map((r) => html`<li key=${r.id} data-rule=${r.id}>${r.text}</li>`)}</ol>` : html`<p>${t('common.loading')}</p>`}
    <p class="muted small">${t('returns.policy_lua')}</p>
    <h3>${t('returns.flags_title')}</h3>
    <table class="table"><thead><tr><th>SKU</th><th>${t('returns.flags')}</th></tr></thead>
      <tbody>${flags.map((f) => html`<tr key=${f.sku}><td>${f.sku}</td><td>${f.flags.map((x) => word(FLAG, x)).join(', ')}</td></tr>`)}</tbody></table>
    <form onSubmit=${save} class="returns-flags-form">
      <label>SKU <input value=${sku} required maxlength="100" onInput=${(e) => setSku(e.target.value)} /></label>
      ${Object.keys(FLAG).map((k) => html`<label key=${k} class="check"><input type="checkbox" checked=${!!pick[k]}
        onChange=${(e) => setPick({ ...pick, [k]: e.target.checked })} /> ${word(FLAG, k)}</label>`)}
      <button class="btn primary" type="submit">${t('returns.save')}</button>
    </form>
  </section>`;
}
