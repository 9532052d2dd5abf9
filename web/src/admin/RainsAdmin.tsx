import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, errorMessage, formatYuan } from '../api.ts';
import { yuanToMinor } from '../money.ts';
import type { Rain } from '../rain.ts';
import { RainChart, type RainStats } from './RainChart.tsx';
import { ScheduleRainForm } from './ScheduleRainForm.tsx';

/** How often a rain's page looks again while it runs, and how long after its end (settlement). */
const liveRefreshMs = 2000;
const afterEndRefreshMs = 15_000;

interface Budget {
  readonly accountId: string;
  readonly balanceMinor: string;
}

/** Where a rain stands: by its status once closed, else by the clock. */
function rainState(rain: Rain, nowMs: number): string {
  if (rain.status !== 'scheduled') return rain.status;
  if (nowMs < Date.parse(rain.startsAt)) return 'upcoming';
  return nowMs < Date.parse(rain.endsAt) ? 'running' : 'ended, closing';
}

function windowText(rain: Rain): string {
  const seconds = (Date.parse(rain.endsAt) - Date.parse(rain.startsAt)) / 1000;
  return `${new Date(rain.startsAt).toLocaleString()} · ${String(seconds)} s`;
}

/**
 * Rains (整点红包) in the operator console: the campaign budget and deposits into it, scheduling a
 * rain, the rains so far, and one rain paying out — won, settled, left — with a chart of each
 * tenth of its window, refreshed every 2 s while it runs. Viewers read; they move no money.
 */
export function RainsAdmin({ canMoveMoney }: { canMoveMoney: boolean }) {
  const [budget, setBudget] = useState<Budget | null>(null);
  const [rains, setRains] = useState<readonly Rain[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setBudget(await api<Budget>('GET', '/v1/admin/campaign-budget'));
      setRains((await api<{ rains: Rain[] }>('GET', '/v1/admin/rains')).rains);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const scheduled = async (rain: Rain) => {
    setSelectedId(rain.id);
    await load();
  };
  return (
    <>
      <BudgetCard budget={budget} canDeposit={canMoveMoney} onDeposited={setBudget} />
      {canMoveMoney ? <ScheduleRainForm onScheduled={scheduled} /> : <p className="card muted">Viewers cannot fund or schedule rains.</p>}
      <section className="card" data-testid="admin-rains">
        <h3>Rains</h3>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {rains.length === 0 && <p className="muted">No rains yet</p>}
        <table>
          <tbody>
            {rains.map((rain) => (
              <tr key={rain.id} data-testid="admin-rain">
                <td>{rain.name}</td>
                <td>{windowText(rain)}</td>
                <td>¥{formatYuan(rain.poolMinor)} / {rain.prizeCount}</td>
                <td>{rainState(rain, Date.now())}</td>
                <td><button type="button" className="link" onClick={() => { setSelectedId(rain.id); }} data-testid="admin-rain-open">View</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selectedId !== null && <RainDetail key={selectedId} id={selectedId} />}
    </>
  );
}

function BudgetCard({ budget, canDeposit, onDeposited }: { budget: Budget | null; canDeposit: boolean; onDeposited: (budget: Budget) => void }) {
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function deposit(event: SyntheticEvent) {
    event.preventDefault();
    const amountMinor = yuanToMinor(amount);
    if (amountMinor === undefined) {
      setError('An amount in yuan, like 1000.00');
      return;
    }
    setError(null);
    try {
      onDeposited(await api<Budget>('POST', '/v1/admin/campaign-budget/deposits', { amountMinor }));
      setAmount('');
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <section className="card" data-testid="admin-budget">
      <h3>Campaign budget</h3>
      <p>
        Balance <strong data-testid="admin-budget-balance">¥{budget === null ? '…' : formatYuan(budget.balanceMinor)}</strong>{' '}
        <small className="muted">{budget?.accountId}</small>
      </p>
      {canDeposit && (
        <form className="row" onSubmit={(event) => void deposit(event)}>
          <input name="depositAmount" inputMode="decimal" placeholder="deposit (CNY)" value={amount} onChange={(e) => { setAmount(e.target.value); }} />
          <button type="submit" className="primary" data-testid="admin-deposit">Deposit</button>
        </form>
      )}
      {error !== null && <p className="error" role="alert">{error}</p>}
    </section>
  );
}

/** One rain paying out; refreshed every 2 s from its scheduling until a little after its end. */
function RainDetail({ id }: { id: string }) {
  const [view, setView] = useState<{ readonly stats: RainStats; readonly loadedAtMs: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const stats = await api<RainStats>('GET', `/v1/admin/rains/${encodeURIComponent(id)}`);
      setView({ stats, loadedAtMs: Date.now() });
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  // Live while scheduled and not long past its end; each load re-decides, so polling stops by itself.
  const isLive = view !== null && view.stats.rain.status === 'scheduled' && view.loadedAtMs < Date.parse(view.stats.rain.endsAt) + afterEndRefreshMs;
  useEffect(() => {
    if (!isLive) return;
    const timer = window.setInterval(() => void load(), liveRefreshMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [isLive, load]);

  if (view === null) return <section className="card">{error ?? 'Loading…'}</section>;
  const { stats, loadedAtMs } = view;
  const rain = stats.rain;
  const leftMinor = (BigInt(rain.poolMinor) - BigInt(stats.wonMinor)).toString();
  const rows: [string, string, string?][] = [
    ['State', `${rainState(rain, loadedAtMs)}${isLive ? ' (live)' : ''}`, 'admin-rain-state'],
    ['Window', `${windowText(rain)} (to ${new Date(rain.endsAt).toLocaleTimeString()}), stagger ${String(rain.staggerMs)} ms`],
    ['Split', rain.mode],
    ['Pool', `¥${formatYuan(rain.poolMinor)} in ${String(rain.prizeCount)} prizes`],
    ['Won', `¥${formatYuan(stats.wonMinor)} in ${String(stats.wonCount)} prizes`, 'admin-rain-won'],
    ['Settled (in wallets)', `¥${formatYuan(stats.settledMinor)}`, 'admin-rain-settled'],
    ['Left in the pool', `¥${formatYuan(leftMinor)}`, 'admin-rain-left'],
    ['Returned to the budget', rain.refundMinor === null ? '—' : `¥${formatYuan(rain.refundMinor)}`],
    ['Per user', `at most ${String(rain.perUserWinsMax)} prizes, ¥${formatYuan(rain.perUserMinorMax)}`],
    ['Fission', rain.fissionShares === 0 ? 'none' : `¥${formatYuan(rain.fissionMinor)} in ${String(rain.fissionShares)} shares per prize`],
    ['Split sha256', rain.splitSha256],
  ];
  if (stats.audit !== undefined) rows.push(['Audit', stats.audit.ok ? 'OK' : stats.audit.problems.join('; '), 'admin-rain-audit']);
  return (
    <section className="card" data-testid="admin-rain-detail">
      <h3>{rain.name} <small className="muted">{rain.id}</small></h3>
      <table className="rain-detail">
        <tbody>
          {rows.map(([label, value, testId]) => (
            <tr key={label}><th>{label}</th><td data-testid={testId}>{value}</td></tr>
          ))}
        </tbody>
      </table>
      <RainChart stats={stats} nowMs={loadedAtMs} />
      {error !== null && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
