// /setup?token=...: creates the first admin (POST /api/v1/setup), who is then signed in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { useStore } from '../store.js';
import { onLinkClick, queryParam } from '../router.js';
import { setup } from '../session.js';
import { Alert, Field, errorText, validateEmail, validatePassword } from '../components.js';
import { AuthLayout } from './auth-layout.js';

export function SetupPage() {
  const { setupNeeded } = useStore();
  const token = queryParam('token');
  if (!setupNeeded) {
    return html`<${AuthLayout} title=${t('setup.title')}>
      <${Alert} kind="info">${t('setup.done')}<//>
      <a class="btn btn-primary btn-block" href="/login" onClick=${onLinkClick}>${t('setup.go_to_login')}</a>
    <//>`;
  }
  if (!token) {
    return html`<${AuthLayout} title=${t('setup.title')}>
      <${Alert} kind="warning">${t('setup.no_token')}<//>
    <//>`;
  }
  return html`<${SetupForm} token=${token} />`;
}

function SetupForm({ token }) {
  const [values, setValues] = useState({ email: '', name: '', password: '' });
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const refs = { email: useRef(null), name: useRef(null), password: useRef(null) };

  useEffect(() => {
    refs.email.current.focus();
  }, []);

  const set = (key) => (value) => setValues({ ...values, [key]: value });

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    const found = {
      email: validateEmail(values.email),
      name: values.name.trim() ? null : t('validation.required'),
      password: validatePassword(values.password),
    };
    setErrors(found);
    setFailure(null);
    const first = ['email', 'name', 'password'].find((k) => found[k]);
    if (first) {
      refs[first].current.focus();
      return;
    }
    setBusy(true);
    try {
      await setup(token, { email: values.email.trim(), name: values.name.trim(), password: values.password });
    } catch (e) {
      setBusy(false);
      if (e.field && refs[e.field] && (e.code === 'missing_field' || e.code === 'invalid_field' ||
          e.code === 'email_taken')) {
        setErrors({ [e.field]: errorText(e) });
        refs[e.field].current.focus();
      } else {
        setFailure(e);
      }
    }
  }

  return html`<${AuthLayout} title=${t('setup.title')} subtitle=${t('setup.subtitle')}>
    ${failure ? html`<${Alert}>${errorText(failure)}<//>` : null}
    <form class="form" onSubmit=${submit} noValidate>
      <${Field} id="email" type="email" label=${t('field.email')} value=${values.email} onInput=${set('email')}
        error=${errors.email} autocomplete="username" inputRef=${refs.email} />
      <${Field} id="name" label=${t('field.name')} value=${values.name} onInput=${set('name')}
        error=${errors.name} autocomplete="name" inputRef=${refs.name} />
      <${Field} id="password" type="password" label=${t('field.password')} value=${values.password}
        onInput=${set('password')} error=${errors.password} hint=${t('field.password_hint')}
        autocomplete="new-password" inputRef=${refs.password} />
      <button class="btn btn-primary btn-block" type="submit" disabled=${busy}>
        ${busy ? t('setup.submitting') : t('setup.submit')}
      </button>
    </form>
  <//>`;
}
