import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, formatYuan, errorMessage } from '../api.ts';
import { PinPad } from '../components/PinPad.tsx';
import { useI18n } from '../i18n.tsx';
import { yuanToMinor } from '../money.ts';
import { hashParam } from '../router.ts';
import { usePinPayment } from './usePayment.ts';

interface PayTarget {
  readonly code: string;
  readonly shopName: string;
  readonly amountMinor: string | null;
  readonly note: string | null;
}

/**
 * Scan to pay: the receive code arrives in the link a shop's QR carries (#/pay?code=…) or is typed.
 * The payer sees the shop and the amount (typed for a shop's static code, fixed for an order),
 * then confirms with the PIN.
 */
export function PayPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [code, setCode] = useState(hashParam('code') ?? '');
  const [target, setTarget] = useState<PayTarget | null>(null);
  const [amount, setAmount] = useState('');
  const [lookupError, setLookupError] = useState<string | null>(null);
  const payment = usePinPayment(async (pin) => {
    if (target === null) return;
    const amountMinor = target.amountMinor ?? yuanToMinor(amount);
    await api('POST', '/v1/shop-payments', { code: target.code, pin, ...(amountMinor === undefined ? {} : { amountMinor }) });
  });

  async function lookUp(value: string) {
    setLookupError(null);
    try {
      setTarget(await api<PayTarget>('GET', `/v1/pay-targets/${encodeURIComponent(value.trim())}`));
    } catch (caught) {
      setTarget(null);
      setLookupError(errorMessage(caught));
    }
  }
  useEffect(() => {
    const initial = hashParam('code');
    if (initial !== null && initial !== '') void lookUp(initial);
  }, []);

  function next(event: SyntheticEvent) {
    event.preventDefault();
    if (target?.amountMinor === null && yuanToMinor(amount) === undefined) {
      payment.setError(t('amount'));
      return;
    }
    payment.ask();
  }

  if (payment.done && target !== null) {
    return (
      <main className="page">
        <div className="card center-text" data-testid="pay-done">
          <h2>{t('paid')}</h2>
          <p>{target.shopName} · ¥{target.amountMinor === null ? amount : formatYuan(target.amountMinor)}</p>
          <button type="button" className="primary" onClick={onDone}>{t('back')}</button>
        </div>
      </main>
    );
  }
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => { event.preventDefault(); void lookUp(code); }}>
        <h2>{t('payTitle')}</h2>
        <label>{t('codeOrLink')}<input name="payTargetCode" value={code} onChange={(e) => { setCode(e.target.value); }} required /></label>
        {lookupError !== null && <p className="error" role="alert">{lookupError}</p>}
        <button type="submit" className="secondary" data-testid="pay-lookup">{t('lookUp')}</button>
      </form>
      {target !== null && (
        <form className="card" onSubmit={next} data-testid="pay-target">
          <div className="muted">{t('payTo')}</div>
          <h3 data-testid="pay-shop-name">{target.shopName}</h3>
          {target.note !== null && <p className="muted">{target.note}</p>}
          {target.amountMinor === null ? (
            <label>{t('amount')}<input name="payAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
          ) : (
            <div className="amount" data-testid="pay-amount">¥{formatYuan(target.amountMinor)}</div>
          )}
          {payment.error !== null && <p className="error" role="alert">{payment.error}</p>}
          <button type="submit" className="primary" data-testid="pay-next">{t('pay')}</button>
        </form>
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
