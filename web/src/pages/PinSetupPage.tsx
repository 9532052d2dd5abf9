import { useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';
import { useI18n } from '../i18n.tsx';

export function PinSetupPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [pin, setPin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function save(event: SyntheticEvent) {
    event.preventDefault();
    try {
      await api('PUT', '/v1/me/pin', { pin, password });
      onDone();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => void save(event)}>
        <h2>{t('setPin')}</h2>
        <label>{t('newPin')}<input name="pin" type="password" inputMode="numeric" pattern="[0-9]{6}" maxLength={6} value={pin} onChange={(e) => { setPin(e.target.value); }} required /></label>
        <label>{t('password')}<input name="password" type="password" value={password} onChange={(e) => { setPassword(e.target.value); }} required /></label>
        {error !== null && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" data-testid="save-pin">{t('save')}</button>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </form>
    </main>
  );
}
