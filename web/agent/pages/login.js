// /login: email and password → POST /api/v1/auth/login.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { useStore } from '../store.js';
import { login } from '../session.js';
import { Alert, Field, errorText, validateEmail } from '../components.js';
import { AuthLayout } from './auth-layout.js';

export function LoginPage() {
  const { setupNeeded, notice } = useStore();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef(null);
  const passwordRef = useRef(null);

  useEffect(() => {
    if (emailRef.current) emailRef.current.focus();
  }, []);

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    const found = {
      email: validateEmail(email),
      password: password ? null : t('validation.required'),
    };
    setErrors(found);
    setFailure(null);
    if (found.email || found.password) {
      (found.email ? emailRef : passwordRef).current.focus();
      return;
    }
    setBusy(true);
    try {
      await login(email.trim(), password);
    } catch (e) {
      setFailure(e);
      setBusy(false);
      if (e.code === 'bad_credentials') {
        setPassword('');
        if (passwordRef.current) passwordRef.current.focus();
      }
    }
  }

  return html`<${AuthLayout} title=${t('login.title')} subtitle=${t('login.subtitle')}>
    ${setupNeeded ? html`<${Alert} kind="info">
      <strong>${t('login.setup_hint_title')}</strong>
      <span class="alert-body">${t('login.setup_hint')}</span>
    <//>` : null}
    ${notice && !failure ? html`<${Alert} kind=${notice === 'login.signed_out' ? 'info' : 'warning'}>${t(notice)}<//>` : null}
    ${failure ? html`<${Alert}>${errorText(failure)}<//>` : null}
    <form class="form" onSubmit=${submit} noValidate>
      <${Field} id="email" type="email" label=${t('field.email')} value=${email} onInput=${setEmail}
        error=${errors.email} autocomplete="username" inputRef=${emailRef} />
      <${Field} id="password" type="password" label=${t('field.password')} value=${password}
        onInput=${setPassword} error=${errors.password} autocomplete="current-password" inputRef=${passwordRef} />
      <button class="btn btn-primary btn-block" type="submit" disabled=${busy}>
        ${busy ? t('login.submitting') : t('login.submit')}
      </button>
    </form>
  <//>`;
}
