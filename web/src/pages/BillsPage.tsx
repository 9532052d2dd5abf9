import { useEffect, useRef, useState } from 'react';
import { ArcElement, Chart, DoughnutController, Legend, Tooltip } from 'chart.js';
import { api, formatYuan } from '../api.ts';
import { useI18n, type Lang, type MessageKey } from '../i18n.tsx';
import { labelText, type BillDiscount } from '../marketing.ts';
import { navigate } from '../router.ts';

Chart.register(DoughnutController, ArcElement, Tooltip, Legend);

interface Bill {
  readonly id: string;
  readonly kind: string;
  readonly direction: 'income' | 'expense' | 'neutral';
  readonly status: string;
  readonly amountMinor: string;
  readonly memo: string | null;
  readonly counterparty: { readonly displayName: string; readonly mobileMasked: string | null };
  readonly transactionNo: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  /** The red packet a redpacket* bill belongs to: the receipt links to it. */
  readonly redPacketId: string | null;
  /** A campaign's discount on this payment: the payer paid the price less it. */
  readonly discount?: BillDiscount | null;
  /** A partner's deposit this step belongs to (deposit_* kinds). */
  readonly depositId?: string | null;
}

const kinds = ['p2p', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'shop', 'refund', 'topup', 'withdraw', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge'] as const;

/**
 * Money in shows +: income, and of the neutral moves a top-up (into the wallet), a shop payment
 * received (into the owner's shop) and a deposit released; a withdrawal, a refund given and a
 * deposit held show -. A waived deposit moved no money and shows no sign.
 */
function sign(bill: Bill): '+' | '-' | '' {
  if (bill.direction === 'income') return '+';
  if (bill.direction === 'expense') return '-';
  if (bill.kind === 'deposit_waived') return '';
  return bill.kind === 'topup' || bill.kind === 'shop' || bill.kind === 'deposit_release' ? '+' : '-';
}

/** This month in Asia/Shanghai, as the API counts months: YYYY-MM. */
function currentMonth(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
}

/** The price before the discount, when it differs from the amount (the payer's side of a discounted payment). */
function grossShown(bill: Bill): string | null {
  const discount = bill.discount ?? null;
  return discount === null || discount.grossMinor === bill.amountMinor ? null : discount.grossMinor;
}

/** A bill's discount as the receipt shows it: the original price struck through, the label and what came off, what was paid. */
function DiscountLines({ bill, discount, lang }: { bill: Bill; discount: BillDiscount; lang: Lang }) {
  const { t } = useI18n();
  const gross = grossShown(bill);
  return (
    <dl className="detail discount" data-testid="bill-discount-detail">
      {gross !== null && (
        <div><dt>{t('originalPrice')}</dt><dd><s data-testid="bill-detail-gross">¥{formatYuan(gross)}</s></dd></div>
      )}
      <div><dt data-testid="bill-detail-label">{labelText(discount.label, lang)}</dt><dd className="discount-off" data-testid="bill-detail-off">−¥{formatYuan(discount.amountMinor)}</dd></div>
      <div><dt>{t('paidAmount')}</dt><dd data-testid="bill-detail-paid">¥{formatYuan(bill.amountMinor)}</dd></div>
    </dl>
  );
}

/** One bill in full: the receipt. */
function BillDetail({ bill, onClose }: { bill: Bill; onClose: () => void }) {
  const { t, lang } = useI18n();
  const discount = bill.discount ?? null;
  const rows: [MessageKey, string][] = [
    ['kindLabel', kindLabel(t, bill.kind)],
    ['counterparty', `${bill.counterparty.displayName}${bill.counterparty.mobileMasked === null ? '' : ` ${bill.counterparty.mobileMasked}`}`],
    ['statusLabel', bill.status === 'succeeded' ? t('done') : t('pending')],
    ['createdAt', new Date(bill.createdAt).toLocaleString()],
    ['transactionNo', bill.transactionNo],
  ];
  const packetId = bill.redPacketId;
  return (
    <div className="sheet" role="dialog" aria-label={t('billDetail')}>
      <div className="sheet-body" data-testid="bill-detail">
        <div className="sheet-title">{t('billDetail')}</div>
        <div className="amount center-text">{sign(bill)}{formatYuan(bill.amountMinor)}</div>
        {bill.memo !== null && <p className="center-text muted">{bill.memo}</p>}
        {discount !== null && <DiscountLines bill={bill} discount={discount} lang={lang} />}
        <dl className="detail">
          {rows.map(([label, value]) => (
            <div key={label}><dt>{t(label)}</dt><dd>{value}</dd></div>
          ))}
        </dl>
        {packetId !== null && (
          <button type="button" className="secondary" onClick={() => { navigate('redpacket', { id: packetId }); }} data-testid="bill-redpacket">
            🧧 {t('viewRedPacket')}
          </button>
        )}
        <button type="button" className="primary" onClick={onClose}>{t('back')}</button>
      </div>
    </div>
  );
}

interface Summary {
  readonly month: string;
  readonly incomeMinor: string;
  readonly expenseMinor: string;
  readonly byKind: readonly { readonly kind: string; readonly direction: string; readonly amountMinor: string }[];
}

type Filter = 'all' | 'income' | 'expense';

const kindKeys: Readonly<Record<string, MessageKey>> = {
  topup: 'kind_topup',
  withdraw: 'kind_withdraw',
  p2p: 'kind_p2p',
  shop: 'kind_shop',
  refund: 'kind_refund',
  redpacket: 'kind_redpacket',
  redpacket_grab: 'kind_redpacket_grab',
  redpacket_refund: 'kind_redpacket_refund',
  rain_prize: 'kind_rain_prize',
  deposit_waived: 'kind_deposit_waived',
  deposit_hold: 'kind_deposit_hold',
  deposit_release: 'kind_deposit_release',
  deposit_charge: 'kind_deposit_charge',
};

export function kindLabel(t: (key: MessageKey) => string, kind: string): string {
  const key = kindKeys[kind];
  return key === undefined ? kind : t(key);
}

/** The month's spending by kind, drawn with Chart.js; amounts stay exact strings until drawn. */
function SpendingChart({ summary }: { summary: Summary }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    const expenses = summary.byKind.filter((row) => row.direction === 'expense');
    if (canvas.current === null || expenses.length === 0) return;
    const chart = new Chart(canvas.current, {
      type: 'doughnut',
      data: {
        labels: expenses.map((row) => kindLabel(t, row.kind)),
        // Display only: fen → yuan as a number for the arc sizes; totals shown are the strings.
        datasets: [{ data: expenses.map((row) => Number(row.amountMinor) / 100), backgroundColor: ['#1677ff', '#ff7a45', '#36cfc9', '#9254de', '#ffc53d'] }],
      },
      options: { plugins: { legend: { position: 'bottom' } }, animation: false },
    });
    return () => {
      chart.destroy();
    };
  }, [summary, t]);
  return <canvas ref={canvas} height={180} data-testid="spending-chart" />;
}

export function BillsPage({ onDone }: { onDone: () => void }) {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<Filter>('all');
  const [month, setMonth] = useState(currentMonth);
  const [kind, setKind] = useState('');
  const [bills, setBills] = useState<readonly Bill[]>([]);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [open, setOpen] = useState<Bill | null>(null);
  useEffect(() => {
    const query = new URLSearchParams({ month, limit: '100' });
    if (filter !== 'all') query.set('direction', filter);
    if (kind !== '') query.set('kind', kind);
    void api<{ bills: Bill[] }>('GET', `/v1/bills?${query.toString()}`).then((page) => {
      setBills(page.bills);
    });
  }, [filter, month, kind]);
  useEffect(() => {
    void api<Summary>('GET', `/v1/bills/summary?month=${month}`).then(setSummary);
  }, [month]);
  return (
    <main className="page">
      <section className="card">
        <h2>{t('monthSummary')}</h2>
        <div className="filters">
          <input type="month" name="month" value={month} onChange={(e) => { if (e.target.value !== '') setMonth(e.target.value); }} />
          <select name="kind" value={kind} onChange={(e) => { setKind(e.target.value); }}>
            <option value="">{t('all')}</option>
            {kinds.map((value) => <option key={value} value={value}>{kindLabel(t, value)}</option>)}
          </select>
        </div>
        {summary !== null && (
          <>
            <p data-testid="summary">
              {t('income')} ¥{formatYuan(summary.incomeMinor)} · {t('expense')} ¥{formatYuan(summary.expenseMinor)}
            </p>
            <SpendingChart summary={summary} />
          </>
        )}
      </section>
      <nav className="tabs">
        {(['all', 'income', 'expense'] as const).map((value) => (
          <button type="button" key={value} className={filter === value ? 'tab active' : 'tab'} onClick={() => { setFilter(value); }}>
            {t(value)}
          </button>
        ))}
      </nav>
      <section className="card">
        {bills.length === 0 && <p className="muted">{t('noBills')}</p>}
        <ul className="bills" data-testid="bills">
          {bills.map((bill) => {
            const discount = bill.discount ?? null;
            const gross = grossShown(bill);
            return (
              <li key={bill.id} onClick={() => { setOpen(bill); }} data-testid="bill">
                <span>
                  {kindLabel(t, bill.kind)} · {bill.counterparty.displayName}
                  {bill.memo !== null && <small className="muted"> {bill.memo}</small>}
                  {discount !== null && (
                    <small className="discount-tag" data-testid="bill-discount">
                      {labelText(discount.label, lang)} −¥{formatYuan(discount.amountMinor)}
                    </small>
                  )}
                </span>
                <span className="bill-amount">
                  {gross !== null && <s className="muted" data-testid="bill-gross">{formatYuan(gross)}</s>}
                  <span className={sign(bill) === '+' ? 'plus' : 'minus'}>
                    {sign(bill)}
                    {formatYuan(bill.amountMinor)}
                  </span>
                </span>
              </li>
            );
          })}
        </ul>
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      {open !== null && <BillDetail bill={open} onClose={() => { setOpen(null); }} />}
    </main>
  );
}
