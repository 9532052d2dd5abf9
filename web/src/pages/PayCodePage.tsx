import { useCallback, useEffect, useState } from 'react';
import { api, formatYuan, errorMessage } from '../api.ts';
import { OfferCard } from '../components/OfferCard.tsx';
import { PinPad } from '../components/PinPad.tsx';
import { useI18n } from '../i18n.tsx';
import type { Offer } from '../marketing.ts';

interface IssuedCode {
  readonly code: string;
  readonly qrSvg: string;
  readonly expiresAt: string;
}

interface Charge {
  readonly id: string;
  readonly shopName: string;
  readonly amountMinor: string;
  /** The discount this charge would get now, shown before the PIN (the server sends it while the charge awaits the PIN). */
  readonly offer?: Offer | null;
}

const refreshMs = 60_000;
const pollMs = 2_000;

/** "28" + 16 digits shown in groups of four, as a cashier reads them. */
function grouped(code: string): string {
  return code.replace(/(\d{4})(?=\d)/g, '$1 ');
}

/**
 * The payment code (付款码): a fresh code every minute (each one retires the last), shown as a QR
 * and as digits. A shop's charge above the no-PIN amount appears here to confirm with the PIN.
 */
export function PayCodePage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [issued, setIssued] = useState<IssuedCode | null>(null);
  const [waiting, setWaiting] = useState<Charge | null>(null);
  const [askingPin, setAskingPin] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setIssued(await api<IssuedCode>('POST', '/v1/me/pay-code'));
    } catch (caught) {
      setNotice(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshMs);
    const poll = setInterval(() => {
      void api<{ charges: Charge[] }>('GET', '/v1/me/code-charges').then((page) => {
        setWaiting((current) => current ?? page.charges[0] ?? null);
      });
    }, pollMs);
    return () => {
      clearInterval(timer);
      clearInterval(poll);
    };
  }, [refresh]);

  async function answer(charge: Charge, pin: string | null) {
    setAskingPin(false);
    try {
      if (pin === null) {
        await api('POST', `/v1/me/code-charges/${charge.id}/decline`);
        setNotice(t('chargeDeclined'));
      } else {
        const bill = await api<{ amountMinor?: string }>('POST', `/v1/me/code-charges/${charge.id}/confirm`, charge.offer ? { pin, offerId: charge.offer.offerId } : { pin });
        setNotice(`${t('paid')} · ${charge.shopName} · ¥${formatYuan(bill.amountMinor ?? charge.amountMinor)}`);
      }
      setWaiting(null);
      await refresh();
    } catch (caught) {
      setNotice(errorMessage(caught));
    }
  }

  return (
    <main className="page">
      <section className="card center-text" data-testid="pay-code">
        <h2>{t('payCode')}</h2>
        <p className="muted">{t('payCodeHint')}</p>
        {issued !== null && (
          <>
            <div className="qr" dangerouslySetInnerHTML={{ __html: issued.qrSvg }} />
            <div className="code-digits" data-testid="pay-code-digits">{grouped(issued.code)}</div>
          </>
        )}
        {notice !== null && <p className="notice" role="status" data-testid="pay-code-notice">{notice}</p>}
        <button type="button" className="secondary" onClick={() => void refresh()}>{t('refresh')}</button>
      </section>
      {waiting !== null && (
        <section className="card" data-testid="charge-confirm">
          <h3>{t('confirmCharge')}</h3>
          <p>{waiting.shopName} · <strong>¥{formatYuan(waiting.amountMinor)}</strong></p>
          {waiting.offer !== undefined && waiting.offer !== null && <OfferCard offer={waiting.offer} testId="charge-offer" />}
          <button type="button" className="primary" onClick={() => { setAskingPin(true); }} data-testid="charge-confirm-pin">{t('pay')}</button>
          <button type="button" className="link" onClick={() => void answer(waiting, null)} data-testid="charge-decline">{t('decline')}</button>
        </section>
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      {askingPin && waiting !== null && (
        <PinPad title={t('enterPin')} onSubmit={(pin) => void answer(waiting, pin)} onCancel={() => { setAskingPin(false); }} />
      )}
    </main>
  );
}
