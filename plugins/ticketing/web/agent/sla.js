// SLA state as agents read it: a badge on each inbox row (the clock that matters now) and the two clocks
// (first response, resolution) at the top of a ticket. The server says ok / warning / breached and running /
// paused / stopped (plugins/ticketing/README.md, "SLAs"); the time left is counted here from due_at.
import { useEffect, useState } from 'preact/hooks';
import { dateTime, duration, html, t, when } from '@destek/agent';

const TARGETS = ['first_response', 'resolution'];
const TARGET_LABEL = { first_response: 'sla.first_response', resolution: 'sla.resolution' };
const TARGET_SHORT = { first_response: 'sla.first_response_short', resolution: 'sla.resolution_short' };

/* Minutes from now until iso (negative once it has passed). */
function minutesUntil(iso) {
  return (new Date(iso).getTime() - Date.now()) / 60000;
}

/* The target whose clock still runs (or is paused), first response before resolution; null when none. */
export function slaFocus(sla) {
  if (!sla) return null;
  for (const which of TARGETS) {
    const target = sla[which];
    if (target && target.clock !== 'stopped') return { which, target };
  }
  return null;
}

/* What a running or paused target looks like now: {tone, text} — tone is ok | warning | breached | paused. */
function describe(target) {
  if (target.clock === 'paused') return { tone: 'paused', text: t('sla.paused') };
  if (!target.due_at) return { tone: target.state, text: '' };
  const left = minutesUntil(target.due_at);
  if (target.state === 'breached' || left < 0) {
    return { tone: 'breached', text: t('sla.overdue_by', { time: duration(Math.max(1, -left)) }) };
  }
  return { tone: target.state === 'warning' ? 'warning' : 'ok', text: t('sla.due_in', { time: duration(Math.max(1, left)) }) };
}

/* The inbox row badge: "1st reply · due in 45 min", amber when in warning, red once breached. */
export function SlaBadge({ sla }) {
  const focus = slaFocus(sla);
  if (!focus) return null;
  const { tone, text } = describe(focus.target);
  const title = t(TARGET_LABEL[focus.which]) + (focus.target.due_at ? ' · ' + t('sla.due_at', { time: dateTime(focus.target.due_at) }) : '');
  return html`<span class=${'sla-badge sla-' + tone} data-sla=${tone} title=${title}>
    <span class="sla-which">${t(TARGET_SHORT[focus.which])}</span> ${text}</span>`;
}

/* Re-renders the caller every minute, so that "due in" counts down while the page is open. */
export function useMinuteTick() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 30000);
    return () => clearInterval(timer);
  }, []);
}

function TargetCell({ which, target }) {
  let tone;
  let status;
  let detail = null;
  if (target.clock === 'stopped') {
    tone = target.state === 'breached' ? 'missed' : 'met';
    status = t(tone === 'met' ? 'sla.met' : 'sla.missed');
  } else {
    const d = describe(target);
    tone = d.tone;
    status = t(tone === 'paused' ? 'sla.paused' : tone === 'breached' ? 'sla.breached' : tone === 'warning' ? 'sla.warning' : 'sla.on_track');
    detail = d.text && tone !== 'paused' ? d.text : null;
  }
  // The bar's width is set through the CSSOM (Preact's style object), which the CSP allows; no style attribute.
  const used = target.target_minutes > 0 ? Math.min(100, Math.round((target.elapsed_minutes / target.target_minutes) * 100)) : 0;
  return html`<div class=${'sla-cell sla-' + tone} data-sla-target=${which} data-sla=${tone}>
    <div class="sla-cell-head">
      <span class="sla-name">${t(TARGET_LABEL[which])}</span>
      <span class="sla-state">${status}</span>
    </div>
    <div class="sla-figures">
      <span>${t('sla.target', { time: duration(target.target_minutes) })}</span>
      ${target.due_at ? html`<span><time datetime=${target.due_at} title=${dateTime(target.due_at)}>${t('sla.due_at', { time: when(target.due_at) })}</time></span>` : null}
      ${detail ? html`<strong class="sla-left">${detail}</strong>` : null}
    </div>
    <div class="sla-bar" role="img" aria-label=${t('sla.used', { time: duration(target.elapsed_minutes), target: duration(target.target_minutes) })}>
      <span class="sla-bar-fill" style=${{ width: used + '%' }}></span>
    </div>
  </div>`;
}

/* The SLA clocks of one ticket, or a quiet line when no policy applies. */
export function SlaClock({ sla }) {
  useMinuteTick();
  if (!sla || (!sla.first_response && !sla.resolution)) {
    return html`<section class="sla-clock sla-none" data-region="sla" aria-label=${t('sla.title')}>
      <span class="muted small">${t('sla.none')}</span></section>`;
  }
  return html`<section class="sla-clock" data-region="sla" aria-label=${t('sla.title')}>
    ${TARGETS.filter((w) => sla[w]).map((w) => html`<${TargetCell} key=${w} which=${w} target=${sla[w]} />`)}
  </section>`;
}
