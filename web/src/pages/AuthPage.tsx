import { useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';
import { useI18n } from '../i18n.tsx';

/** Log in or sign up; `notice` says why, when a link opened signed out waits behind it. */
export function AuthPage({ onSignedIn, notice = null }: { onSignedIn: () => Promise<void>; notice?: string | null }) {
  const { t, toggle } = useI18n();
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [mobile, setMobile] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = mode === 'signup' && displayName !== '' ? { mobile, password, displayName } : { mobile, password };
      await api('POST', mode === 'login' ? '/v1/auth/login' : '/v1/auth/signup', body);
      await onSignedIn();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <header className="auth-header">
        <h1>{t('appName')}</h1>
        <button type="button" className="link" onClick={toggle} data-testid="lang">
          {t('language')}
        </button>
      </header>
      <form onSubmit={(event) => void submit(event)} className="card">
        <h2>{mode === 'login' ? t('login') : t('signup')}</h2>
        {notice !== null && <p className="notice" role="status" data-testid="auth-notice">{notice}</p>}
        <label>
          {t('mobile')}
          <input name="mobile" inputMode="tel" autoComplete="tel" value={mobile} onChange={(e) => { setMobile(e.target.value); }} required />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autoComplete={mode === 'login' ? 'current-password' : 'new-password'} value={password} onChange={(e) => { setPassword(e.target.value); }} required />
        </label>
        {mode === 'signup' && (
          <label>
            {t('displayName')}
            <input name="displayName" value={displayName} onChange={(e) => { setDisplayName(e.target.value); }} maxLength={40} />
          </label>
        )}
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="submit">
          {mode === 'login' ? t('login') : t('signup')}
        </button>
        <button type="button" className="link" onClick={() => { setMode(mode === 'login' ? 'signup' : 'login'); }} data-testid="switch-mode">
          {mode === 'login' ? t('noAccount') : t('haveAccount')}
        </button>
      </form>
    </main>
  );
}
