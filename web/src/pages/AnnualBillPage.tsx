import { useCallback, useEffect, useRef, useState } from 'react';
import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip } from 'chart.js';
import { api, errorMessage, formatYuan } from '../api.ts';
import { ConsentDialog } from '../components/ConsentDialog.tsx';
import { currentYear, liveGrant, purposes, type AnnualBill, type Grant, type ShareLink } from '../credit.ts';
import { fill, useI18n } from '../i18n.tsx';
import { navigate } from '../router.ts';
import { kindLabel } from './BillsPage.tsx';

Chart.register(DoughnutController, ArcElement, BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

const palette = ['#1677ff', '#ff7a45', '#36cfc9', '#9254de', '#ffc53d', '#73d13d', '#f759ab', '#8c8c8c'];
/** How many years back the page offers (the server keeps every year from 2000). */
const yearsShown = 3;

/** Display only: fen → yuan as a number for arc and bar sizes; every figure shown stays a string. */
const yuanNumber = (minor: string): number => Number(minor) / 100;

function CategoryChart({ bill }: { bill: AnnualBill }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    if (canvas.current === null || bill.byCategory.length === 0) return;
    const chart = new Chart(canvas.current, {
      type: 'doughnut',
      data: {
        labels: bill.byCategory.map((row) => kindLabel(t, row.kind)),
        datasets: [{ data: bill.byCategory.map((row) => yuanNumber(row.minor)), backgroundColor: palette }],
      },
      options: { plugins: { legend: { position: 'bottom' } }, animation: false, maintainAspectRatio: false },
    });
    return () => {
      chart.destroy();
    };
  }, [bill, t]);
  return (
    <div className="chart-box">
      <canvas ref={canvas} data-testid="annual-category-chart" />
    </div>
  );
}

function MonthChart({ bill }: { bill: AnnualBill }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: bill.byMonth.map((row) => fill(t('annual_month'), { month: row.month })),
        datasets: [
          { label: `${t('expense')} (¥)`, data: bill.byMonth.map((row) => yuanNumber(row.spentMinor)), backgroundColor: '#1677ff' },
          { label: `${t('income')} (¥)`, data: bill.byMonth.map((row) => yuanNumber(row.receivedMinor)), backgroundColor: '#73d13d' },
        ],
      },
      options: { plugins: { legend: { position: 'bottom' } }, animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
    return () => {
      chart.destroy();
    };
  }, [bill, t]);
  return (
    <div className="chart-box">
      <canvas ref={canvas} data-testid="annual-month-chart" />
    </div>
  );
}

/**
 * The share flow: a link needs the live annual_bill.publish grant, and showing the score the
 * separate annual_bill.publish_score grant. Missing grants are asked for one dialog at a time, in
 * that order; declining any creates no link.
 */
function ShareBill({ year }: { year: number }) {
  const { t } = useI18n();
  const [includeScore, setIncludeScore] = useState(false);
  const [asking, setAsking] = useState<readonly string[]>([]);
  const [link, setLink] = useState<ShareLink | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  const [isCopied, setIsCopied] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const publish = useCallback(async () => {
    try {
      setLink(await api<ShareLink>('POST', `/v1/annual-bill/${String(year)}/share`, { includeScore }));
      setIsCopied(false);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsBusy(false);
    }
  }, [includeScore, year]);

  async function start() {
    setIsBusy(true);
    setMessage(null);
    setError(null);
    try {
      const { grants } = await api<{ grants: Grant[] }>('GET', '/v1/consent/grants');
      const needed = [purposes.publish, ...(includeScore ? [purposes.publishScore] : [])].filter((purpose) => liveGrant(grants, purpose, null) === undefined);
      setAsking(needed);
      if (needed.length === 0) await publish();
    } catch (caught) {
      setError(errorMessage(caught));
      setIsBusy(false);
    }
  }

  const url = link === null ? null : `${window.location.origin}${link.path}`;
  const purpose = asking[0];
  return (
    <section className="card" data-testid="annual-share">
      <h2>{t('annual_share')}</h2>
      <p className="muted">{t('annual_shareHint')}</p>
      <div className="stack">
        <label className="check body-check">
          <input type="checkbox" name="includeScore" checked={includeScore} onChange={(e) => { setIncludeScore(e.target.checked); }} data-testid="annual-include-score" />
          <span>{t('annual_includeScore')}</span>
        </label>
        <button type="button" className="primary" disabled={isBusy} onClick={() => void start()} data-testid="annual-share-create">{t('annual_shareButton')}</button>
      </div>
      {message !== null && <p className="muted" role="status" data-testid="annual-share-message">{message}</p>}
      {error !== null && <p className="error" role="alert" data-testid="annual-share-error">{error}</p>}
      {link !== null && url !== null && (
        <div className="share-link notice" data-testid="annual-share-result">
          <div>{t('annual_shareLink')}</div>
          <a href={url} target="_blank" rel="noreferrer" data-testid="annual-share-link">{url}</a>
          {link.includesScore && <div data-testid="annual-share-with-score">{t('annual_shareWithScore')}</div>}
          <div className="row-actions">
            <button
              type="button"
              className="secondary small"
              onClick={() => {
                void navigator.clipboard.writeText(url).then(() => {
                  setIsCopied(true);
                });
              }}
            >
              {isCopied ? t('annual_copied') : t('annual_copy')}
            </button>
          </div>
          <p className="muted">
            {t('annual_shareRevokeHint')}{' '}
            <button type="button" className="link" onClick={() => { navigate('consent'); }}>{t('consentCentre')} →</button>
          </p>
        </div>
      )}
      {purpose !== undefined && (
        <ConsentDialog
          key={purpose}
          request={{ purpose }}
          onCancel={() => {
            setAsking([]);
            setIsBusy(false);
            setMessage(t('annual_shareCancelled'));
          }}
          onGranted={() => {
            const rest = asking.slice(1);
            setAsking(rest);
            if (rest.length === 0) void publish();
          }}
        />
      )}
    </section>
  );
}

/** 年度账单: the year's totals, by category and by month, top shops, red packets, and the share flow. Private. */
export function AnnualBillPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const thisYear = currentYear();
  const [year, setYear] = useState(thisYear);
  const [bill, setBill] = useState<AnnualBill | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setBill(null);
    setError(null);
    api<AnnualBill>('GET', `/v1/annual-bill/${String(year)}`).then(setBill, (caught: unknown) => {
      setError(errorMessage(caught));
    });
  }, [year]);
  return (
    <main className="page">
      <section className="card annual-hero">
        <div className="rp-header">
          <h2 data-testid="annual-title">{fill(t('annual_title'), { year })}</h2>
          <select name="year" aria-label={t('annual_year')} value={year} onChange={(e) => { setYear(Number(e.target.value)); }}>
            {Array.from({ length: yearsShown }, (_, i) => thisYear - i).map((value) => <option key={value} value={value}>{value}</option>)}
          </select>
        </div>
        <p className="muted">{t('annual_private')}</p>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {bill === null && error === null && <p className="muted">{t('loading')}</p>}
        {bill !== null && (
          <div className="annual-totals">
            <div><span className="muted">{t('annual_spent')}</span><strong data-testid="annual-spent">¥{formatYuan(bill.spentMinor)}</strong></div>
            <div><span className="muted">{t('annual_received')}</span><strong data-testid="annual-received">¥{formatYuan(bill.receivedMinor)}</strong></div>
          </div>
        )}
      </section>
      {bill !== null && (
        <>
          <section className="card" data-testid="annual-categories">
            <h3>{t('annual_byCategory')}</h3>
            {bill.byCategory.length === 0 ? <p className="muted">{t('annual_noSpending')}</p> : <CategoryChart bill={bill} />}
            <ul className="list">
              {bill.byCategory.map((row) => (
                <li key={row.kind} data-testid="annual-category" data-kind={row.kind}>
                  <span>{kindLabel(t, row.kind)} <small className="muted">{fill(t('annual_count'), { count: row.count })}</small></span>
                  <span>¥{formatYuan(row.minor)}</span>
                </li>
              ))}
            </ul>
          </section>
          <section className="card">
            <h3>{t('annual_byMonth')}</h3>
            <MonthChart bill={bill} />
          </section>
          <section className="card" data-testid="annual-shops">
            <h3>{t('annual_topShops')}</h3>
            {bill.topShops.length === 0 && <p className="muted">{t('annual_noShops')}</p>}
            <ol className="top-shops">
              {bill.topShops.map((shop) => (
                <li key={shop.name} data-testid="annual-shop">
                  <span>{shop.name} <small className="muted">{fill(t('annual_count'), { count: shop.count })}</small></span>
                  <span>¥{formatYuan(shop.minor)}</span>
                </li>
              ))}
            </ol>
          </section>
          <section className="card" data-testid="annual-red-packets">
            <h3>🧧 {t('annual_redPackets')}</h3>
            <div className="annual-totals">
              <div><strong>{fill(t('annual_packetsSent'), { count: bill.redPackets.sent })}</strong></div>
              <div><strong>{fill(t('annual_packetsReceived'), { count: bill.redPackets.received })}</strong></div>
            </div>
          </section>
          <section className="placeholders">
            <div className="card placeholder" data-testid="annual-forest">🌳 {t('forest')}<small className="muted">{t('comingSoon')}</small></div>
            <div className="card placeholder" data-testid="annual-wealth">📈 {t('wealth')}<small className="muted">{t('comingSoon')}</small></div>
          </section>
          <ShareBill key={year} year={year} />
        </>
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
