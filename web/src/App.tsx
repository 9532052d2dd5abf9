import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Me } from './api.ts';
import { useI18n } from './i18n.tsx';
import { AuthPage } from './pages/AuthPage.tsx';
import { HomePage } from './pages/HomePage.tsx';

/** Signed out → the auth page; signed in → home. The session is the HttpOnly cookie. */
export function App() {
  const { t } = useI18n();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      setMe(await api<Me>('GET', '/v1/me'));
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 401) setMe(null);
      else throw error;
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (me === undefined) return <main className="center">{t('loading')}</main>;
  if (me === null) return <AuthPage onSignedIn={refresh} />;
  return (
    <HomePage
      me={me}
      onLogout={async () => {
        await api('POST', '/v1/auth/logout');
        setMe(null);
      }}
    />
  );
}
