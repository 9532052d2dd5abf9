import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError, formatYuan, errorMessage } from '../api.ts';
import { MarketingAdmin } from './MarketingAdmin.tsx';
import { OpenapiAdmin } from './OpenapiAdmin.tsx';
import { PartnersAdmin } from './PartnersAdmin.tsx';
import { RainsAdmin } from './RainsAdmin.tsx';

/**
 * The operator console at /admin: its own log-in (operator accounts, not wallet users), the
 * ledger's totals read in one snapshot, reconciliation status, user search, transfer search, and
 * the hourly rains (the campaign budget, scheduling, one rain paying out); and, on its own page
 * (#/marketing), 营销 · Marketing: campaigns, their approval, burn rate, kill switch and funds;
 * and (#/partners) 合作方 · Partners: registering credit partners (the API key shown once); and
 * (#/openapi) 开放平台 · Open platform: ISV apps, their metering, keys, sandbox accounts and
 * notification deliveries.
 * English only: operators work in one language here.
 */
interface Operator {
  readonly username: string;
  readonly role: string;
}

interface Totals {
  readonly asOf: string;
  readonly currencies: readonly {
    readonly currency: string;
    readonly accounts: number;
    readonly creditBalancesMinor: string;
    readonly debitBalancesMinor: string;
    readonly netMinor: string;
    readonly pendingMinor: string;
    readonly byCode: readonly { readonly code: string; readonly accounts: number; readonly balanceMinor: string }[];
  }[];
}

interface Reconcile {
  readonly ok: boolean;
  readonly accounts: number;
  readonly transfers: number;
  readonly problems: readonly { readonly check: string; readonly subject: string; readonly expected: string; readonly actual: string }[];
}

interface AdminUser {
  readonly id: string;
  readonly mobile: string;
  readonly displayName: string;
  readonly realNameVerified: boolean;
  readonly walletAccountId: string;
  readonly createdAt: string;
}

interface TransferRow {
  readonly seq: string;
  readonly id: string;
  readonly type: string;
  readonly kind: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: string;
  readonly createdAtMs: string;
}

function Login({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setError(null);
    try {
      await api('POST', '/v1/admin/auth/login', { username, password });
      await onLoggedIn();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <main className="admin">
      <form className="card" onSubmit={(event) => void submit(event)}>
        <h2>qianbao operator console</h2>
        <label>
          Username
          <input name="username" value={username} onChange={(e) => { setUsername(e.target.value); }} autoComplete="username" />
        </label>
        <label>
          Password
          <input name="password" type="password" value={password} onChange={(e) => { setPassword(e.target.value); }} autoComplete="current-password" />
        </label>
        {error !== null && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" data-testid="admin-login">Log in</button>
      </form>
    </main>
  );
}

/** The console's pages, by the URL hash: the overview (ledger, users, rains), marketing, partners or the open platform. */
type ConsolePage = 'overview' | 'marketing' | 'partners' | 'openapi';

function pageFromHash(): ConsolePage {
  if (window.location.hash === '#/marketing') return 'marketing';
  if (window.location.hash === '#/openapi') return 'openapi';
  return window.location.hash === '#/partners' ? 'partners' : 'overview';
}

function Console({ operator, onLogout }: { operator: Operator; onLogout: () => Promise<void> }) {
  const [page, setPage] = useState<ConsolePage>(pageFromHash);
  useEffect(() => {
    const onHash = () => {
      setPage(pageFromHash());
    };
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('hashchange', onHash);
    };
  }, []);
  const go = (next: ConsolePage) => {
    window.location.hash = next === 'overview' ? '#/' : `#/${next}`;
  };
  return (
    <main className="admin">
      <header className="home-header">
        <span>qianbao console · {operator.username} ({operator.role})</span>
        <button type="button" className="link light" onClick={() => void onLogout()}>Log out</button>
      </header>
      <nav className="tabs admin-nav">
        <button type="button" className={page === 'overview' ? 'tab active' : 'tab'} onClick={() => { go('overview'); }} data-testid="admin-nav-overview">Overview</button>
        <button type="button" className={page === 'marketing' ? 'tab active' : 'tab'} onClick={() => { go('marketing'); }} data-testid="admin-nav-marketing">营销 · Marketing</button>
        <button type="button" className={page === 'partners' ? 'tab active' : 'tab'} onClick={() => { go('partners'); }} data-testid="admin-nav-partners">合作方 · Partners</button>
        <button type="button" className={page === 'openapi' ? 'tab active' : 'tab'} onClick={() => { go('openapi'); }} data-testid="admin-nav-openapi">开放平台 · Open platform</button>
      </nav>
      {page === 'marketing' && <MarketingAdmin canChange={operator.role !== 'viewer'} />}
      {page === 'partners' && <PartnersAdmin canChange={operator.role !== 'viewer'} />}
      {page === 'openapi' && <OpenapiAdmin canChange={operator.role !== 'viewer'} />}
      {page === 'overview' && <Dashboard operator={operator} />}
    </main>
  );
}

function Dashboard({ operator }: { operator: Operator }) {
  const [totals, setTotals] = useState<Totals | null>(null);
  const [health, setHealth] = useState<Reconcile | null>(null);
  const [mobile, setMobile] = useState('');
  const [users, setUsers] = useState<readonly AdminUser[]>([]);
  const [accountId, setAccountId] = useState('');
  const [transfers, setTransfers] = useState<readonly TransferRow[]>([]);

  const load = useCallback(async () => {
    setTotals(await api<Totals>('GET', '/v1/admin/ledger/totals'));
    setHealth(await api<Reconcile>('GET', '/v1/admin/ledger/reconcile'));
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function searchUsers(event: SyntheticEvent) {
    event.preventDefault();
    const query = mobile === '' ? '' : `?mobile=${encodeURIComponent(mobile)}`;
    setUsers((await api<{ users: AdminUser[] }>('GET', `/v1/admin/users${query}`)).users);
  }
  async function searchTransfers(event: SyntheticEvent) {
    event.preventDefault();
    const query = accountId === '' ? '' : `?accountId=${encodeURIComponent(accountId)}`;
    setTransfers((await api<{ transfers: TransferRow[] }>('GET', `/v1/admin/transfers${query}`)).transfers);
  }

  return (
    <>
      <section className="card" data-testid="reconcile">
        <h3>Reconciliation</h3>
        {health === null ? 'Loading…' : health.ok ? `OK — ${String(health.transfers)} transfers, ${String(health.accounts)} accounts` : `${String(health.problems.length)} problem(s)`}
        {health !== null && !health.ok && (
          <ul>{health.problems.map((p) => <li key={`${p.check}:${p.subject}`}>{p.check} {p.subject}: expected {p.expected}, actual {p.actual}</li>)}</ul>
        )}
      </section>
      <section className="card" data-testid="totals">
        <h3>Balances by currency (one snapshot{totals === null ? '' : `, ${totals.asOf}`})</h3>
        {totals?.currencies.map((c) => (
          <table key={c.currency}>
            <thead><tr><th>{c.currency}</th><th>accounts</th><th>balance</th></tr></thead>
            <tbody>
              {c.byCode.map((row) => <tr key={row.code}><td>{row.code}</td><td>{row.accounts}</td><td>{formatYuan(row.balanceMinor)}</td></tr>)}
              <tr><td>owed (credit balances)</td><td>{c.accounts}</td><td>{formatYuan(c.creditBalancesMinor)}</td></tr>
              <tr><td>net (must be 0)</td><td /><td data-testid="net">{formatYuan(c.netMinor)}</td></tr>
            </tbody>
          </table>
        ))}
      </section>
      <section className="card">
        <h3>Users</h3>
        <form onSubmit={(event) => void searchUsers(event)} className="row">
          <input placeholder="mobile prefix" value={mobile} onChange={(e) => { setMobile(e.target.value); }} />
          <button type="submit" className="primary">Search</button>
        </form>
        <table><tbody>{users.map((u) => <tr key={u.id} data-testid="admin-user"><td>{u.mobile}</td><td>{u.displayName}</td><td data-testid="admin-user-id">{u.id}</td><td>{u.realNameVerified ? 'verified' : '—'}</td><td><button type="button" className="link" onClick={() => { setAccountId(u.walletAccountId); }}>{u.walletAccountId.slice(0, 13)}…</button></td></tr>)}</tbody></table>
      </section>
      <section className="card">
        <h3>Transfers</h3>
        <form onSubmit={(event) => void searchTransfers(event)} className="row">
          <input placeholder="account id (empty: all)" value={accountId} onChange={(e) => { setAccountId(e.target.value); }} />
          <button type="submit" className="primary">Search</button>
        </form>
        <table><tbody>{transfers.map((x) => <tr key={x.seq}><td>{x.seq}</td><td>{x.kind}</td><td>{x.type}</td><td>{formatYuan(x.amountMinor)}</td><td title={x.id}>{x.id.slice(0, 16)}</td></tr>)}</tbody></table>
      </section>
      <RainsAdmin canMoveMoney={operator.role !== 'viewer'} />
    </>
  );
}

export function AdminApp() {
  const [operator, setOperator] = useState<Operator | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      setOperator((await api<{ operator: Operator }>('GET', '/v1/admin/me')).operator);
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 401) setOperator(null);
      else throw error;
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  if (operator === undefined) return <main className="center">Loading…</main>;
  if (operator === null) return <Login onLoggedIn={refresh} />;
  return (
    <Console
      operator={operator}
      onLogout={async () => {
        await api('POST', '/v1/admin/auth/logout');
        setOperator(null);
      }}
    />
  );
}
