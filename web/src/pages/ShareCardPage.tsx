import { useEffect, useState } from 'react';
import { api, ApiError, errorMessage, formatYuan } from '../api.ts';
import type { ShareCard } from '../credit.ts';
import { fill, useI18n } from '../i18n.tsx';
import { kindLabel } from './BillsPage.tsx';

/**
 * The public share card at #/share/<token>: anyone with the link, signed in or not. Summary figures
 * only; the score only while its own grant is live. Once the publish grant is revoked the server
 * answers 404 and the page says the link is revoked.
 */
export function ShareCardPage({ token }: { token: string }) {
  const { t, toggle } = useI18n();
  const [card, setCard] = useState<ShareCard | null>(null);
  const [isRevoked, setIsRevoked] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<ShareCard>('GET', `/v1/public/annual-bills/${encodeURIComponent(token)}`).then(setCard, (caught: unknown) => {
      if (caught instanceof ApiError && caught.problem.status === 404) setIsRevoked(true);
      else setError(errorMessage(caught));
    });
  }, [token]);
  return (
    <main className="page share-page">
      <header className="home-header">
        <span>{t('appName')}</span>
        <button type="button" className="link light" onClick={toggle} data-testid="lang">{t('language')}</button>
      </header>
      {isRevoked && (
        <section className="card center-text" data-testid="share-revoked">
          <h2>{t('share_revoked')}</h2>
          <p className="muted">{t('share_revokedHint')}</p>
        </section>
      )}
      {error !== null && <p className="error card" role="alert">{error}</p>}
      {card === null && !isRevoked && error === null && <p className="muted center-text">{t('loading')}</p>}
      {card !== null && (
        <section className="share-card" data-testid="share-card">
          <h2 data-testid="share-title">{fill(t('share_title'), { name: card.displayName, year: card.year })}</h2>
          <div className="share-figures">
            <div><span>{t('annual_spent')}</span><strong data-testid="share-spent">¥{formatYuan(card.spentMinor)}</strong></div>
            <div><span>{t('annual_received')}</span><strong data-testid="share-received">¥{formatYuan(card.receivedMinor)}</strong></div>
          </div>
          {card.categoryShares.length > 0 && (
            <>
              <h3>{t('share_categories')}</h3>
              <ul className="share-shares">
                {card.categoryShares.map((share) => (
                  <li key={share.kind} data-testid="share-category" data-kind={share.kind}>
                    <span>{kindLabel(t, share.kind)}</span>
                    <span className="share-bar"><span style={{ width: `${String(Math.min(100, share.percent))}%` }} /></span>
                    <span>{share.percent}%</span>
                  </li>
                ))}
              </ul>
            </>
          )}
          <p>
            🧧 {fill(t('annual_packetsSent'), { count: card.redPackets.sent })} · {fill(t('annual_packetsReceived'), { count: card.redPackets.received })}
          </p>
          {card.score !== null && (
            <div className="share-score" data-testid="share-score">
              {t('share_score')} <strong>{card.score}</strong>
            </div>
          )}
          <p className="share-footer">{t('share_footer')}</p>
        </section>
      )}
      <p className="center-text">
        <a href="/#/">{t('share_openWallet')}</a>
      </p>
    </main>
  );
}
