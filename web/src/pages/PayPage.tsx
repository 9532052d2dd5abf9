import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError, formatYuan, errorMessage } from '../api.ts';
import { OfferCard } from '../components/OfferCard.tsx';
import { PinPad } from '../components/PinPad.tsx';
import { fill, useI18n } from '../i18n.tsx';
import type { BillDiscount, Offer } from '../marketing.ts';
import { labelText } from '../marketing.ts';
import { yuanToMinor } from '../money.ts';
import { hashParam, navigateToTrade, tradeNoIn } from '../router.ts';
import { usePinPayment } from './usePayment.ts';

interface PayTarget {
  readonly code: string;
  readonly shopName: string;
  readonly amountMinor: string | null;
  readonly note: string | null;
  /** The best discount for this payer and amount (an order's, or the amount asked about). */
  readonly offer: Offer | null;
}

/** What the payer confirmed: the price and the offer shown for it (null: none). */
interface Quote {
  readonly amountMinor: string;
  readonly offer: Offer | null;
}

/** The payer's bill the payment answers with: what was paid, and the discount on it. */
interface PaidBill {
  readonly amountMinor: string;
  readonly discount: BillDiscount | null;
}

const offerChanged = 'marketing.offer_changed';

async function fetchTarget(code: string, amountMinor?: string): Promise<PayTarget> {
  const query = amountMinor === undefined ? '' : `?amountMinor=${amountMinor}`;
  return api<PayTarget>('GET', `/v1/pay-targets/${encodeURIComponent(code.trim())}${query}`);
}

/**
 * Scan to pay: the receive code arrives in the link a shop's QR carries (#/pay?code=…) or is typed.
 * An open-platform trade's cashier link or bare 28-digit trade number goes to its cashier instead.
 * The payer sees the shop and the amount (typed for a shop's static code, fixed for an order) and,
 * before the PIN, the discount a campaign gives it: the label, the amount off and what is left to
 * pay. Paying names that offer; if it no longer applies (409 marketing.offer_changed) nothing is
 * paid, the page says so and shows the new price to confirm again.
 */
export function PayPage({ onDone }: { onDone: () => void }) {
  const { t, lang } = useI18n();
  const [code, setCode] = useState(hashParam('code') ?? '');
  const [target, setTarget] = useState<PayTarget | null>(null);
  const [amount, setAmount] = useState('');
  const [quote, setQuote] = useState<Quote | null>(null);
  const [isQuoting, setIsQuoting] = useState(false);
  const [lookupError, setLookupError] = useState<string | null>(null);
  const [paid, setPaid] = useState<PaidBill | null>(null);

  /** The price being paid: an order's, or the amount typed for a static code. */
  const amountMinor = target === null ? undefined : (target.amountMinor ?? yuanToMinor(amount));
  const shownQuote = quote !== null && quote.amountMinor === amountMinor ? quote : null;

  /** Asks the server for the offer on this price now. */
  async function requote(value: string, price: string): Promise<Quote> {
    const fresh = await fetchTarget(value, target?.amountMinor === null ? price : undefined);
    setTarget(fresh);
    const next = { amountMinor: fresh.amountMinor ?? price, offer: fresh.offer };
    setQuote(next);
    return next;
  }

  const payment = usePinPayment(
    async (pin) => {
      if (target === null || shownQuote === null) return;
      try {
        const bill = await api<PaidBill>('POST', '/v1/shop-payments', {
          code: target.code,
          pin,
          ...(target.amountMinor === null ? { amountMinor: shownQuote.amountMinor } : {}),
          ...(shownQuote.offer === null ? {} : { offerId: shownQuote.offer.offerId }),
        });
        setPaid(bill);
      } catch (caught) {
        // The offer shown is gone: show the price as it is now and let the payer confirm again.
        if (caught instanceof ApiError && caught.problem.code === offerChanged) {
          await requote(target.code, shownQuote.amountMinor).catch(() => undefined);
        }
        throw caught;
      }
    },
    (caught) => (caught instanceof ApiError && caught.problem.code === offerChanged ? t('offer_changed') : errorMessage(caught)),
  );

  async function lookUp(value: string) {
    // An open-platform trade (its cashier link or bare trade number) is paid at its own cashier.
    const tradeNo = tradeNoIn(value);
    if (tradeNo !== null) {
      navigateToTrade(tradeNo);
      return;
    }
    setLookupError(null);
    setQuote(null);
    try {
      const found = await fetchTarget(value);
      setTarget(found);
      // An order's price is fixed, so its offer comes with it.
      if (found.amountMinor !== null) setQuote({ amountMinor: found.amountMinor, offer: found.offer });
    } catch (caught) {
      setTarget(null);
      setLookupError(errorMessage(caught));
    }
  }
  useEffect(() => {
    const initial = hashParam('code');
    if (initial !== null && initial !== '') void lookUp(initial);
  }, []);

  /**
   * First press: look up the offer for this price; if there is one, show it and wait for the
   * payer to confirm. With the offer shown (or none), the PIN pad.
   */
  async function next(event: SyntheticEvent) {
    event.preventDefault();
    if (target === null) return;
    if (amountMinor === undefined) {
      payment.setError(t('amount'));
      return;
    }
    if (shownQuote !== null) {
      payment.ask();
      return;
    }
    payment.setError(null);
    setIsQuoting(true);
    try {
      const fresh = await requote(target.code, amountMinor);
      if (fresh.offer === null) payment.ask();
    } catch (caught) {
      payment.setError(errorMessage(caught));
    } finally {
      setIsQuoting(false);
    }
  }

  if (payment.done && paid !== null && target !== null) {
    return (
      <main className="page">
        <div className="card center-text" data-testid="pay-done">
          <h2>{t('paid')}</h2>
          <p>{target.shopName} · ¥{formatYuan(paid.amountMinor)}</p>
          {paid.discount !== null && (
            <p className="muted" data-testid="pay-done-discount">
              {t('originalPrice')} <s>¥{formatYuan(paid.discount.grossMinor)}</s> · {labelText(paid.discount.label, lang)} −¥{formatYuan(paid.discount.amountMinor)}
            </p>
          )}
          <button type="button" className="primary" onClick={onDone}>{t('back')}</button>
        </div>
      </main>
    );
  }
  const offer = shownQuote?.offer ?? null;
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => { event.preventDefault(); void lookUp(code); }}>
        <h2>{t('payTitle')}</h2>
        <label>{t('codeOrLink')}<input name="payTargetCode" value={code} onChange={(e) => { setCode(e.target.value); }} required /></label>
        <p className="muted">{t('pay_tradeHint')}</p>
        {lookupError !== null && <p className="error" role="alert">{lookupError}</p>}
        <button type="submit" className="secondary" data-testid="pay-lookup">{t('lookUp')}</button>
      </form>
      {target !== null && (
        <form className="card" onSubmit={(event) => void next(event)} data-testid="pay-target">
          <div className="muted">{t('payTo')}</div>
          <h3 data-testid="pay-shop-name">{target.shopName}</h3>
          {target.note !== null && <p className="muted">{target.note}</p>}
          {target.amountMinor === null ? (
            <label>{t('amount')}<input name="payAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
          ) : (
            <div className={offer === null ? 'amount' : 'amount struck'} data-testid="pay-amount">¥{formatYuan(target.amountMinor)}</div>
          )}
          {offer !== null && <OfferCard offer={offer} />}
          {payment.error !== null && <p className="error" role="alert" data-testid="pay-error">{payment.error}</p>}
          <button type="submit" className="primary" disabled={isQuoting} data-testid="pay-next">
            {offer === null ? t('pay') : fill(t('confirmPay'), { amount: formatYuan(offer.payMinor) })}
          </button>
        </form>
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
