import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, errorMessage, formatYuan } from '../api.ts';
import { ConsentDialog } from '../components/ConsentDialog.tsx';
import { dayText, liveGrant, purposes, timeText, type CreditScore, type DemoPartner, type Deposit, type Grant } from '../credit.ts';
import { fill, problemText, useI18n, type MessageKey } from '../i18n.tsx';

const problemKeys: Readonly<Record<string, MessageKey>> = { 'ledger.insufficient_funds': 'bike_insufficient' };

/** A deposit's status as the user reads it: waived, held (and how much), returned, or charged (how much). */
function depositStatusText(t: (key: MessageKey) => string, deposit: Deposit): string {
  switch (deposit.status) {
    case 'waived':
      return t('deposit_waived');
    case 'held':
      return fill(t('deposit_held'), { amount: formatYuan(deposit.amountMinor) });
    case 'returned':
      return t('deposit_returned');
    case 'charged':
      return fill(t('deposit_charged'), { amount: formatYuan(deposit.chargedMinor ?? '0') });
  }
}

interface State {
  readonly demo: DemoPartner | null;
  readonly grants: readonly Grant[];
  readonly score: CreditScore | null;
  readonly deposits: readonly Deposit[];
}

/**
 * 免押租车 with the demo partner (小蓝单车, played by the server): the partner, its threshold and
 * deposit; rent deposit-free with credit (the consent dialog first, when there is no live
 * credit.deposit_waiver grant for it) or pay the deposit (held on the balance); the result; return
 * or report damage; and all my deposits.
 */
export function BikePage({ onDone }: { onDone: () => void }) {
  const { t, lang } = useI18n();
  const [state, setState] = useState<State | null>(null);
  const [isMissing, setIsMissing] = useState(false);
  const [isAsking, setIsAsking] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const [result, setResult] = useState<{ readonly deposit: Deposit; readonly hadGrant: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const demo = await api<DemoPartner>('GET', '/v1/demo-partner').catch((caught: unknown) => {
        if (caught instanceof ApiError && caught.problem.status === 404) return null;
        throw caught;
      });
      setIsMissing(demo === null);
      const [grants, score, deposits] = await Promise.all([
        api<{ grants: Grant[] }>('GET', '/v1/consent/grants'),
        api<CreditScore>('GET', '/v1/credit/score'),
        api<{ deposits: Deposit[] }>('GET', '/v1/credit/deposits'),
      ]);
      setState({ demo, grants: grants.grants, score, deposits: deposits.deposits });
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function act(run: () => Promise<void>) {
    setIsBusy(true);
    setError(null);
    try {
      await run();
    } catch (caught) {
      setError(problemText(t, caught, problemKeys));
    } finally {
      setIsBusy(false);
      await load();
    }
  }
  const rent = (hadGrant: boolean) =>
    act(async () => {
      setResult({ deposit: await api<Deposit>('POST', '/v1/demo-partner/rentals'), hadGrant });
    });
  const close = (deposit: Deposit, how: 'return' | 'damage') =>
    act(async () => {
      const closed = await api<Deposit>('POST', `/v1/demo-partner/rentals/${deposit.id}/${how}`);
      setResult((current) => (current?.deposit.id === closed.id ? { ...current, deposit: closed } : current));
    });

  const demo = state?.demo ?? null;
  const partner = demo?.partner;
  const grant = partner === undefined ? undefined : liveGrant(state?.grants ?? [], purposes.depositWaiver, partner.id);
  const score = state?.score?.score;
  return (
    <main className="page">
      {isMissing && <p className="card muted" data-testid="bike-missing">{t('bike_missing')}</p>}
      {demo !== null && partner !== undefined && (
        <section className="card bike-hero" data-testid="bike-partner">
          <h2>🚲 <span data-testid="bike-partner-name">{partner.name}</span></h2>
          <p data-testid="bike-threshold">{fill(t('bike_threshold'), { score: partner.scoreThreshold })}</p>
          <p data-testid="bike-deposit">{fill(t('bike_deposit'), { amount: formatYuan(demo.depositMinor) })}</p>
          {score !== undefined && (
            <p className={score >= partner.scoreThreshold ? 'plus' : 'hint'} data-testid="bike-score">
              {fill(t('bike_myScore'), { score })} · {t(score >= partner.scoreThreshold ? 'bike_meets' : 'bike_below')}
            </p>
          )}
          {grant !== undefined ? (
            <>
              <p className="notice" data-testid="bike-waiver-on">{fill(t('bike_waiverOn'), { date: dayText(grant.expiresAt, lang) })}</p>
              <button type="button" className="primary" disabled={isBusy} onClick={() => void rent(true)} data-testid="bike-rent">{t('bike_rent')}</button>
            </>
          ) : (
            <div className="stack">
              <button type="button" className="primary" disabled={isBusy} onClick={() => { setIsAsking(true); }} data-testid="bike-rent-credit">{t('bike_rentCredit')}</button>
              <button type="button" className="secondary" disabled={isBusy} onClick={() => void rent(false)} data-testid="bike-rent-deposit">
                {fill(t('bike_rentDeposit'), { amount: formatYuan(demo.depositMinor) })}
              </button>
            </div>
          )}
          {error !== null && <p className="error" role="alert" data-testid="bike-error">{error}</p>}
        </section>
      )}
      {result !== null && (
        <section className="card" data-testid="bike-result" data-status={result.deposit.status}>
          {result.deposit.status === 'waived' && <p className="plus big">✓ {t('bike_resultWaived')}</p>}
          {result.deposit.status === 'held' && (
            <>
              <p className="big">🔒 {fill(t('bike_resultHeld'), { amount: formatYuan(result.deposit.amountMinor) })}</p>
              {result.hadGrant && <p className="hint">{t('bike_heldBelow')}</p>}
            </>
          )}
          {(result.deposit.status === 'returned' || result.deposit.status === 'charged') && <p className="big">{depositStatusText(t, result.deposit)}</p>}
        </section>
      )}
      <section className="card" data-testid="deposits">
        <h2>{t('deposits_title')}</h2>
        {state?.deposits.length === 0 && <p className="muted">{t('deposits_none')}</p>}
        <ul className="list">
          {state?.deposits.map((deposit) => {
            const isOpen = deposit.status === 'waived' || deposit.status === 'held';
            return (
              <li key={deposit.id} data-testid="deposit" data-status={deposit.status} data-id={deposit.id}>
                <span>
                  {deposit.partner?.name ?? deposit.partnerId}
                  <small className="muted"> {timeText(deposit.createdAt, lang)}</small>
                </span>
                <span className={`state state-${deposit.status}`} data-testid="deposit-status">{depositStatusText(t, deposit)}</span>
                {isOpen && deposit.partnerId === partner?.id && (
                  <span className="row-actions">
                    <button type="button" className="primary small" disabled={isBusy} onClick={() => void close(deposit, 'return')} data-testid="deposit-return">{t('bike_return')}</button>
                    <button type="button" className="danger small" disabled={isBusy} onClick={() => void close(deposit, 'damage')} data-testid="deposit-damage">{t('bike_damage')}</button>
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </section>
      {isAsking && partner !== undefined && (
        <ConsentDialog
          request={{ purpose: purposes.depositWaiver, partner }}
          onCancel={() => { setIsAsking(false); }}
          onGranted={() => {
            setIsAsking(false);
            void rent(true);
          }}
        />
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
