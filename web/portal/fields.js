// Labelled form fields and alerts, wired for screen readers (label, hint and error tied to the control).
import { h } from './dom.js';
import { t } from './i18n.js';

/* A field around control (an <input> or <textarea> made by the caller, given its id here). */
export function field({ id, label, optional, hint, error, control }) {
  const described = [hint && !error ? id + '-hint' : '', error ? id + '-error' : ''].filter(Boolean).join(' ');
  control.id = id;
  control.name = id;
  control.setAttribute('aria-invalid', error ? 'true' : 'false');
  if (described) control.setAttribute('aria-describedby', described);
  if (!optional) control.setAttribute('aria-required', 'true');
  return h('div', { class: 'field' + (error ? ' field-invalid' : '') },
    h('label', { for: id }, label, optional ? h('span', { class: 'optional' }, ' (' + t('form.optional') + ')') : null),
    control,
    hint && !error ? h('p', { class: 'field-hint', id: id + '-hint' }, hint) : null,
    error ? h('p', { class: 'field-error', id: id + '-error' }, error) : null);
}

/* An <input> or <textarea> whose value goes to values[key] as the customer types; typing clears the field's
 * error (errors[key]) in place, without re-rendering what is being typed. */
export function control(tag, key, values, errors, props) {
  const el = h(tag, Object.assign({ value: values[key] }, props, {
    onInput() {
      values[key] = el.value;
      if (errors[key]) {
        delete errors[key];
        const wrap = el.parentNode;
        wrap.classList.remove('field-invalid');
        el.setAttribute('aria-invalid', 'false');
        const msg = wrap.querySelector('.field-error');
        if (msg) wrap.removeChild(msg);
        const summary = document.getElementById('form-errors');
        if (summary && !Object.keys(errors).length) summary.parentNode.removeChild(summary);
      }
    },
  }));
  return el;
}

export function alert(kind, ...children) {
  return h('div', { class: 'alert alert-' + kind, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}
