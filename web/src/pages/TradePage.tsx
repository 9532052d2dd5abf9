import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, formatYuan } from '../api.ts';
import { PinPad } from '../components/PinPad.tsx';
import { fill, problemText, useI18n, type MessageKey } from '../i18n.tsx';
import { usePinPayment } from './usePayment.ts';

type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';

/** An open-platform trade as the buyer sees it before paying. */
interface Trade {
  readonly tradeNo: string;
  readonly appName: string;
  readonly shopName: string;
  readonly subject: string;
  readonly amountMinor: string;
  readonly status: TradeStatus;
  readonly expiresAt: string;
}

/** The payment's answer: the trade's state, the payer's bill and where the merchant asked to go next. */
interface PaidTrade {
  readonly status: TradeStatus;
  readonly bill: { readonly amountMinor: string; readonly transactionNo: string };
  readonly returnUrl: string | null;
}

const stateKeys: Readonly<Record<TradeStatus, MessageKey>> = {
  WAIT_BUYER_PAY: 'trade_state_WAIT_BUYER_PAY',
  TRADE_SUCCESS: 'trade_state_TRADE_SUCCESS',
  TRADE_FINISHED: 'trade_state_TRADE_FINISHED',
  TRADE_CLOSED: 'trade_state_TRADE_CLOSED',
};

const problemKeys: Readonly<Record<string, MessageKey>> = {
  'openapi.trade_not_found': 'trade_err_not_found',
  'openapi.trade_not_payable': 'trade_err_not_payable',
  'ledger.insufficient_funds': 'trade_err_insufficient',
};

/**
 * The merchant's return_url is the ISV's to choose; only an http(s) link is offered, so a
 * `javascript:` URL can never run in the wallet's origin.
 */
function isWebUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * 收银台 · the cashier for an open-platform trade (#/trade/<tradeNo>), where an ISV's precreate QR
 * code and page/wap pay redirect lead. Before the PIN the payer sees which app asks for the money,
 * the merchant behind it, the subject and the amount; the pay button opens the PIN pad. A trade
 * already paid or closed shows its state and no pay button. After paying: the result and, when the
 * merchant gave one, a link back to it.
 */
export function TradePage({ tradeNo, onDone }: { tradeNo: string; onDone: () => void }) {
  const { t, lang } = useI18n();
  const [trade, setTrade] = useState<Trade | null | undefined>(undefined);
  // The caught error itself, worded at render time so a language switch rewords it.
  const [failure, setFailure] = useState<unknown>(null);
  const [paid, setPaid] = useState<PaidTrade | null>(null);
  const [isPaying, setIsPaying] = useState(false);

  const load = useCallback(async () => {
    try {
      setTrade(await api<Trade>('GET', `/v1/trades/${tradeNo}`));
      setFailure(null);
    } catch (caught) {
      setTrade(null);
      setFailure(caught);
    }
  }, [tradeNo]);
  useEffect(() => {
    void load();
  }, [load]);

  const payment = usePinPayment(
    async (pin) => {
      setIsPaying(true);
      try {
        setPaid(await api<PaidTrade>('POST', `/v1/trades/${tradeNo}/pay`, { pin }));
      } catch (caught) {
        // Paid or closed meanwhile: show the trade as it is now.
        if (caught instanceof ApiError && caught.problem.code === 'openapi.trade_not_payable') await load();
        throw caught;
      } finally {
        setIsPaying(false);
      }
    },
    (caught) => problemText(t, caught, problemKeys),
  );

  if (trade === undefined) return <main className="center">{t('loading')}</main>;
  if (trade === null) {
    return (
      <main className="page">
        <section className="card">
          <h2>{t('trade_title')}</h2>
          <p className="error" role="alert" data-testid="trade-load-error">{problemText(t, failure, problemKeys)}</p>
        </section>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </main>
    );
  }
  if (payment.done && paid !== null) {
    return (
      <main className="page">
        <section className="card center-text trade" data-testid="trade-done" data-status={paid.status}>
          <h2>{t('trade_paid')}</h2>
          <p>{trade.appName} · {fill(t('trade_merchant'), { name: trade.shopName })}</p>
          <div className="amount" data-testid="trade-done-amount">¥{formatYuan(paid.bill.amountMinor)}</div>
          <div className="muted">{t('transactionNo')}</div>
          <code className="small-code">{paid.bill.transactionNo}</code>
          {paid.returnUrl !== null && isWebUrl(paid.returnUrl) && (
            <a className="primary button-link" href={paid.returnUrl} data-testid="trade-return">{t('trade_backToMerchant')}</a>
          )}
        </section>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </main>
    );
  }
  const isPayable = trade.status === 'WAIT_BUYER_PAY';
  const expires = new Date(trade.expiresAt).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return (
    <main className="page">
      <section className="card center-text trade" data-testid="trade" data-status={trade.status}>
        <div className="muted">{t('trade_title')}</div>
        <h2 data-testid="trade-app-name">{trade.appName}</h2>
        <div className="muted" data-testid="trade-merchant">{fill(t('trade_merchant'), { name: trade.shopName })}</div>
        <div className="amount" data-testid="trade-amount">¥{formatYuan(trade.amountMinor)}</div>
        <dl className="detail">
          <div><dt>{t('trade_subject')}</dt><dd data-testid="trade-subject">{trade.subject}</dd></div>
          <div><dt>{t('trade_tradeNo')}</dt><dd>{trade.tradeNo}</dd></div>
        </dl>
        {isPayable ? (
          <p className="muted">{fill(t('trade_payBefore'), { time: expires })}</p>
        ) : (
          <p className="notice" role="status" data-testid="trade-state">{t(stateKeys[trade.status])}</p>
        )}
        {payment.error !== null && <p className="error" role="alert" data-testid="trade-error">{payment.error}</p>}
        {isPayable && (
          <button type="button" className="primary" disabled={isPaying} onClick={payment.ask} data-testid="trade-pay">
            {fill(t('trade_pay'), { amount: formatYuan(trade.amountMinor) })}
          </button>
        )}
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
