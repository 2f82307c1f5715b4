// The feedback module's part of the customer portal: "How did we do?" on the page of a solved ticket (ticketing's
// slot ticket.head). Reads GET /api/v1/public/feedback/csat?number=&sig= (the ticket's own link signature), and one
// click on "Send" posts the score and the optional comment; a ticket already rated shows its score.
import { api, h, t } from '@destek/portal';

const SCORE = { 1: 'feedback.score_1', 2: 'feedback.score_2', 3: 'feedback.score_3', 4: 'feedback.score_4', 5: 'feedback.score_5' };
const st = { key: '', state: null, score: 0, comment: '', busy: false, error: null, loading: false };

async function load(number, sig, update) {
  st.loading = true;
  try {
    st.state = await api('GET', `/public/feedback/csat?number=${encodeURIComponent(number)}&sig=${encodeURIComponent(sig)}`);
  } catch (e) {
    st.state = { offered: false };
  }
  st.loading = false;
  update();
}

async function send(number, sig, update) {
  if (!st.score) { st.error = t('feedback.pick'); update(); return; }
  st.busy = true;
  st.error = null;
  update();
  try {
    st.state = await api('POST', '/public/feedback/csat', { number, sig, score: st.score, comment: st.comment });
  } catch (e) {
    st.error = t('feedback.failed');
  }
  st.busy = false;
  update();
}

function CsatPanel({ ticket, number, sig, update }) {
  if (!ticket || !sig || (ticket.status !== 'solved' && ticket.status !== 'closed')) return null;
  const key = `${number}:${sig}`;
  if (st.key !== key) { Object.assign(st, { key, state: null, score: 0, comment: '', error: null }); load(number, sig, update); }
  const s = st.state;
  if (!s || !s.offered) return null;
  if (s.score) {
    return h('section', { class: 'card fb-csat', 'data-region': 'csat' },
      h('p', { 'data-score': String(s.score) }, t('feedback.thanks', { score: s.score })));
  }
  const buttons = [1, 2, 3, 4, 5].map((n) => h('button', {
    type: 'button', class: 'btn ' + (st.score === n ? 'btn-primary' : 'btn-ghost'), 'aria-pressed': String(st.score === n),
    'data-score': String(n), onClick() { st.score = n; update(); },
  }, `${n} · ${t(SCORE[n])}`));
  return h('section', { class: 'card fb-csat', 'data-region': 'csat', 'aria-labelledby': 'fb-csat-title' },
    h('h2', { id: 'fb-csat-title', class: 'h3' }, t('feedback.question')),
    h('div', { class: 'fb-csat-scores', role: 'group', 'aria-label': t('feedback.question') }, buttons),
    h('label', { for: 'fb-csat-comment' }, t('feedback.comment')),
    h('textarea', { id: 'fb-csat-comment', rows: '3', maxlength: '2000', onInput(e) { st.comment = e.target.value; } }, st.comment),
    st.error ? h('p', { class: 'error', role: 'alert' }, st.error) : null,
    h('button', { type: 'button', class: 'btn btn-primary', disabled: st.busy, 'data-action': 'csat-send',
      onClick() { send(number, sig, update); } }, t('feedback.send')));
}

export const panels = [{ slot: 'ticket.head', id: 'csat', panel: CsatPanel, order: 10 }];
