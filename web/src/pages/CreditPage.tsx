import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '../api.ts';
import { Choice } from '../components/Choice.tsx';
import { ConsentDialog, type ConsentRequest } from '../components/ConsentDialog.tsx';
import { purposes, scopeName, scoreBand, timeText, type CreditScore, type Factor, type FactorKey, type Grant, type Partner } from '../credit.ts';
import { fill, useI18n, type MessageKey } from '../i18n.tsx';
import { navigate } from '../router.ts';

/** The score on a half-circle from min to max, the number in the middle and its band under it. */
function Gauge({ score }: { score: CreditScore }) {
  const { t } = useI18n();
  const fraction = Math.min(1, Math.max(0, (score.score - score.min) / (score.max - score.min)));
  const arc = 'M 20 100 A 80 80 0 0 1 180 100';
  return (
    <div className="gauge" data-testid="credit-gauge">
      <svg viewBox="0 0 200 120" role="img" aria-label={`${String(score.score)} (${String(score.min)}–${String(score.max)})`}>
        <path d={arc} className="gauge-track" pathLength={100} />
        <path d={arc} className="gauge-value" pathLength={100} strokeDasharray={`${String(fraction * 100)} 100`} />
        <text x="20" y="118" className="gauge-end">{score.min}</text>
        <text x="180" y="118" className="gauge-end">{score.max}</text>
      </svg>
      <div className="gauge-center">
        <div className="gauge-score" data-testid="credit-score">{score.score}</div>
        <div className="gauge-band" data-testid="credit-band">{t(scoreBand(score.score))}</div>
      </div>
      <p className="muted center-text" data-testid="credit-range">{fill(t('credit_range'), { min: score.min, max: score.max })}</p>
    </div>
  );
}

const factorNames: Readonly<Record<FactorKey, MessageKey>> = {
  identity: 'factor_identity',
  account_age: 'factor_account_age',
  payment_volume: 'factor_payment_volume',
  regularity: 'factor_regularity',
  refunds_disputes: 'factor_refunds_disputes',
  repayment: 'factor_repayment',
  holdings: 'factor_holdings',
};

/** A factor's name; one this app does not know yet shows its key. */
function factorName(t: (key: MessageKey) => string, key: string): string {
  const name = (factorNames as Readonly<Record<string, MessageKey | undefined>>)[key];
  return name === undefined ? key : t(name);
}

function FactorRow({ factor }: { factor: Factor }) {
  const { t, lang } = useI18n();
  const percent = factor.max === 0 ? 0 : Math.round((factor.points / factor.max) * 100);
  return (
    <li className="factor" data-testid="factor" data-key={factor.key}>
      <div className="factor-head">
        <strong>{factorName(t, factor.key)}</strong>
        <span data-testid="factor-points">{fill(t('credit_points'), { points: factor.points, max: factor.max })}</span>
      </div>
      <div className="meter"><span style={{ width: `${String(percent)}%` }} /></div>
      <div className="factor-basis" data-testid="factor-basis">{factor.basis[lang]}</div>
      {factor.improve !== null ? (
        <div className="factor-improve" data-testid="factor-improve">{fill(t('credit_improve'), { text: factor.improve[lang] })}</div>
      ) : (
        factor.points >= factor.max && <div className="muted">{t('credit_full')}</div>
      )}
    </li>
  );
}

/** Share the score with a partner: choose it and the scope, then the consent dialog grants it. */
function ShareScore() {
  const { t, lang } = useI18n();
  const [partners, setPartners] = useState<readonly Partner[] | null>(null);
  const [grants, setGrants] = useState<readonly Grant[]>([]);
  const [partnerId, setPartnerId] = useState('');
  const [scope, setScope] = useState<'threshold' | 'full'>('threshold');
  const [request, setRequest] = useState<ConsentRequest | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const [known, list] = await Promise.all([api<{ partners: Partner[] }>('GET', '/v1/partners'), api<{ grants: Grant[] }>('GET', '/v1/consent/grants')]);
      const asking = known.partners.filter((partner) => partner.purposes.includes(purposes.scoreShare));
      setPartners(asking);
      setPartnerId((current) => (asking.some((partner) => partner.id === current) ? current : (asking[0]?.id ?? '')));
      setGrants(list.grants);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const partner = partners?.find((candidate) => candidate.id === partnerId);
  const names = new Map((partners ?? []).map((candidate) => [candidate.id, candidate.name]));
  const sharing = grants.filter((grant) => grant.purpose === purposes.scoreShare && grant.state === 'live');
  return (
    <section className="card" data-testid="credit-share">
      <h2>{t('credit_share')}</h2>
      <p className="muted">{t('credit_shareHint')}</p>
      {partners?.length === 0 && <p className="muted">{t('credit_shareNoPartners')}</p>}
      {partner !== undefined && (
        <div className="form-stack">
          <label>
            {t('credit_sharePartner')}
            <select name="sharePartner" value={partnerId} onChange={(e) => { setPartnerId(e.target.value); }}>
              {partners?.map((candidate) => <option key={candidate.id} value={candidate.id}>{candidate.name}</option>)}
            </select>
          </label>
          <span className="field-label">{t('credit_shareScope')}</span>
          <div className="blue-tabs">
            <Choice values={['threshold', 'full'] as const} value={scope} onChange={setScope} label={(value) => scopeName(value, lang)} testIdPrefix="share-scope" />
          </div>
          <button type="button" className="primary" onClick={() => { setMessage(null); setRequest({ purpose: purposes.scoreShare, partner, scope }); }} data-testid="share-score">
            {t('credit_shareButton')}
          </button>
        </div>
      )}
      {message !== null && <p className="notice" role="status" data-testid="share-score-done">{message}</p>}
      {error !== null && <p className="error" role="alert">{error}</p>}
      {sharing.length > 0 && (
        <>
          <h3>{t('credit_liveShares')}</h3>
          <ul className="list">
            {sharing.map((grant) => (
              <li key={grant.id} data-testid="score-share">
                <span>{grant.partnerId === null ? '' : (names.get(grant.partnerId) ?? grant.partnerId)}</span>
                <span className="muted">{scopeName(grant.scope, lang)}</span>
              </li>
            ))}
          </ul>
          <button type="button" className="link" onClick={() => { navigate('consent'); }}>{t('credit_manage')} →</button>
        </>
      )}
      {request !== null && (
        <ConsentDialog
          request={request}
          onCancel={() => { setRequest(null); }}
          onGranted={(grant) => {
            setRequest(null);
            setMessage(fill(t('credit_shared'), { name: request.partner?.name ?? '', scope: scopeName(grant.scope, lang) }));
            void load();
          }}
        />
      )}
    </section>
  );
}

/** 信用分: the score on a gauge with its range, each factor (points of max, basis, how to improve), and sharing it. */
export function CreditPage({ onDone }: { onDone: () => void }) {
  const { t, lang } = useI18n();
  const [score, setScore] = useState<CreditScore | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<CreditScore>('GET', '/v1/credit/score').then(setScore, (caught: unknown) => {
      setError(errorMessage(caught));
    });
  }, []);
  return (
    <main className="page">
      <section className="card credit-hero">
        <h2>{t('credit_title')}</h2>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {score === null && error === null && <p className="muted">{t('loading')}</p>}
        {score !== null && (
          <>
            <Gauge score={score} />
            <p className="muted center-text">{fill(t('credit_updated'), { date: timeText(score.computedAt, lang) })}</p>
          </>
        )}
      </section>
      {score !== null && (
        <section className="card">
          <h2>{t('credit_factors')}</h2>
          <p className="muted">{t('credit_own')}</p>
          <ul className="list factors" data-testid="factors">
            {score.factors.map((factor) => <FactorRow key={factor.key} factor={factor} />)}
          </ul>
        </section>
      )}
      <ShareScore />
      <nav className="row-actions page-links">
        <button type="button" className="secondary small" onClick={() => { navigate('consent'); }} data-testid="credit-consents">{t('consentCentre')}</button>
        <button type="button" className="secondary small" onClick={() => { navigate('consent', { tab: 'log' }); }}>{t('dataUse')}</button>
      </nav>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
