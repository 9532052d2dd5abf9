import { useEffect, useState } from 'react';
import { api, errorMessage, formatYuan } from '../api.ts';
import { fill, useI18n, type MessageKey } from '../i18n.tsx';
import type { Voucher } from '../marketing.ts';

/** Where a voucher stands: used, past its date (the server keeps it as issued), or ready. */
function voucherState(voucher: Voucher, nowMs: number): 'used' | 'expired' | 'issued' {
  if (voucher.status === 'used') return 'used';
  return Date.parse(voucher.expiresAt) <= nowMs ? 'expired' : 'issued';
}

const stateKeys: Readonly<Record<ReturnType<typeof voucherState>, MessageKey>> = {
  issued: 'voucher_issued',
  used: 'voucher_used',
  expired: 'voucher_expired',
};

/** 我的券: the vouchers campaigns issued to me, newest first; each is used once at checkout. */
export function VouchersPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [vouchers, setVouchers] = useState<readonly Voucher[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ vouchers: Voucher[] }>('GET', '/v1/vouchers').then(
      (page) => {
        setVouchers(page.vouchers);
      },
      (caught: unknown) => {
        setError(errorMessage(caught));
      },
    );
  }, []);
  const nowMs = Date.now();
  return (
    <main className="page">
      <section className="card">
        <h2>{t('vouchers')}</h2>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {vouchers === null && error === null && <p className="muted">{t('loading')}</p>}
        {vouchers?.length === 0 && <p className="muted">{t('noVouchers')}</p>}
        <ul className="vouchers" data-testid="vouchers">
          {vouchers?.map((voucher) => {
            const state = voucherState(voucher, nowMs);
            return (
              <li key={voucher.id} className={`voucher ${state}`} data-testid="voucher" data-state={state}>
                <span className="voucher-amount" data-testid="voucher-amount">¥{formatYuan(voucher.amountMinor)}</span>
                <span className="voucher-body">
                  <span>{fill(t('voucher_minSpend'), { amount: formatYuan(voucher.minSpendMinor) })}</span>
                  <small className="muted">
                    {voucher.usedAt === null
                      ? fill(t('voucher_expires'), { date: new Date(voucher.expiresAt).toLocaleDateString() })
                      : fill(t('voucher_usedAt'), { date: new Date(voucher.usedAt).toLocaleDateString() })}
                  </small>
                </span>
                <span className="voucher-state" data-testid="voucher-state">{t(stateKeys[state])}</span>
              </li>
            );
          })}
        </ul>
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
