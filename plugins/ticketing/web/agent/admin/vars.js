// The variables a macro's or a trigger's reply may use ({{ticket.reference}}, …), filled in by the server
// (tkt_template_expand_new in plugins/ticketing/triggers.c), and the buttons that insert one at the caret.
import { html, t } from '@destek/agent';

export const TEMPLATE_VARS = ['{{customer.name}}', '{{ticket.reference}}', '{{ticket.subject}}', '{{order_number}}',
  '{{agent.name}}'];

/* The variables a reply may use, as buttons that insert one at the caret of the last reply box used. */
export function VarButtons({ onPick, vars }) {
  return html`<div class="vars" role="group" aria-label=${t('admin.variables')}>
    <span class="small muted">${t('admin.variables')}:</span>
    ${(vars || TEMPLATE_VARS).map((v) => html`<button type="button" class="chip mono" data-var=${v}
      onMouseDown=${(e) => e.preventDefault()} onClick=${() => onPick(v)}>${v}</button>`)}
  </div>`;
}
