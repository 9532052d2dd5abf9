import { useEffect, useRef, useState } from 'react';
import { ArcElement, Chart, DoughnutController, Legend, Tooltip } from 'chart.js';
import { api, formatYuan } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n.tsx';

Chart.register(DoughnutController, ArcElement, Tooltip, Legend);

interface Bill {
  readonly id: string;
  readonly kind: string;
  readonly direction: 'income' | 'expense' | 'neutral';
  readonly amountMinor: string;
  readonly memo: string | null;
  readonly counterparty: { readonly displayName: string };
  readonly createdAt: string;
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
  const { t } = useI18n();
  const [filter, setFilter] = useState<Filter>('all');
  const [bills, setBills] = useState<readonly Bill[]>([]);
  const [summary, setSummary] = useState<Summary | null>(null);
  useEffect(() => {
    const query = filter === 'all' ? '' : `?direction=${filter}`;
    void api<{ bills: Bill[] }>('GET', `/v1/bills${query}`).then((page) => {
      setBills(page.bills);
    });
  }, [filter]);
  useEffect(() => {
    void api<Summary>('GET', '/v1/bills/summary').then(setSummary);
  }, []);
  return (
    <main className="page">
      <section className="card">
        <h2>{t('monthSummary')}</h2>
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
          {bills.map((bill) => (
            <li key={bill.id}>
              <span>
                {kindLabel(t, bill.kind)} · {bill.counterparty.displayName}
                {bill.memo !== null && <small className="muted"> {bill.memo}</small>}
              </span>
              <span className={bill.direction === 'income' ? 'plus' : 'minus'}>
                {bill.direction === 'income' ? '+' : '-'}
                {formatYuan(bill.amountMinor)}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
