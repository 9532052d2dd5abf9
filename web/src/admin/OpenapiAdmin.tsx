import { useLoad } from '../useLoad.ts';
import { useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';

/** The server's bounds on a registration (src/openapi/routes.ts). */
const notifyUrlsMax = 20;
const rateMin = 1;
const rateMax = 100_000;

interface PlatformKey {
  readonly pem: string;
  readonly base64: string;
}

interface OpenApp {
  readonly appId: string;
  readonly name: string;
  readonly shopId: string;
  readonly notifyUrls: readonly string[];
  readonly ratePerSecond: number;
  readonly platformPublicKey: PlatformKey;
  readonly createdAt: string;
  readonly disabled: boolean;
}

interface Metering {
  readonly calls: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly p99Ms: number;
  readonly methods: readonly { readonly method: string; readonly calls: number; readonly errors: number; readonly errorRate: number; readonly p99Ms: number }[];
}

type ListedApp = OpenApp & { readonly metering: Metering };

interface SandboxAccounts {
  readonly buyer: { readonly userId: string; readonly buyerId: string; readonly mobile: string; readonly password: string; readonly pin: string; readonly balance: string };
  readonly seller: { readonly userId: string; readonly buyerId: string; readonly mobile: string | null; readonly shopId: string };
}

interface Notification {
  readonly notifyId: string;
  readonly appId: string;
  readonly tradeNo: string;
  readonly event: string;
  readonly url: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAt: string;
  readonly lastStatus: number | null;
  readonly lastBody: string | null;
  readonly lastAt: string | null;
  readonly createdAt: string;
}

function when(iso: string | null): string {
  return iso === null ? '—' : new Date(iso).toLocaleString();
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** The form's notify URLs, one a line (blank lines dropped). */
function notifyUrlsOf(text: string): string[] {
  return text.split(/\s+/).filter((url) => url !== '');
}

function RegisterAppForm({ onRegistered }: { onRegistered: (app: OpenApp) => Promise<void> }) {
  const [name, setName] = useState('');
  const [ownerUserId, setOwnerUserId] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [notifyUrls, setNotifyUrls] = useState('');
  const [rate, setRate] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const urls = notifyUrlsOf(notifyUrls);
    const ratePerSecond = rate.trim() === '' ? undefined : Number(rate);
    if (ratePerSecond !== undefined && (!Number.isInteger(ratePerSecond) || ratePerSecond < rateMin || ratePerSecond > rateMax)) {
      setError(`The rate limit is a whole number of calls a second from ${String(rateMin)} to ${String(rateMax)}`);
      return;
    }
    if (urls.length > notifyUrlsMax) {
      setError(`At most ${String(notifyUrlsMax)} notify URLs`);
      return;
    }
    setIsBusy(true);
    setError(null);
    try {
      const body = { name: name.trim(), ownerUserId: ownerUserId.trim(), appPublicKey: publicKey.trim(), notifyUrls: urls, ...(ratePerSecond === undefined ? {} : { ratePerSecond }) };
      const app = await api<OpenApp>('POST', '/v1/admin/openapi/apps', body);
      setName('');
      setOwnerUserId('');
      setPublicKey('');
      setNotifyUrls('');
      setRate('');
      await onRegistered(app);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsBusy(false);
    }
  }
  return (
    <form className="card" onSubmit={(event) => void submit(event)} data-testid="openapi-form">
      <h3>Register an app</h3>
      <div className="form-grid">
        <label>
          Name (shown to payers at the cashier)
          <input name="appName" value={name} maxLength={60} onChange={(e) => { setName(e.target.value); }} required />
        </label>
        <label>
          Merchant user id (trades pay into this user&apos;s shop)
          <input name="appOwner" value={ownerUserId} placeholder="usr_…" onChange={(e) => { setOwnerUserId(e.target.value); }} required />
        </label>
        <label>
          Rate limit (calls a second; empty: 200)
          <input name="appRate" type="number" min={rateMin} max={rateMax} step={1} value={rate} onChange={(e) => { setRate(e.target.value); }} />
        </label>
      </div>
      <label>
        The app&apos;s public key (RSA-2048, SPKI PEM or bare base64)
        <textarea name="appPublicKey" rows={8} value={publicKey} onChange={(e) => { setPublicKey(e.target.value); }} required />
      </label>
      <label>
        Notify URLs (one a line; a call&apos;s notify_url must be one of them or a path under one)
        <textarea name="appNotifyUrls" rows={3} value={notifyUrls} onChange={(e) => { setNotifyUrls(e.target.value); }} />
      </label>
      {error !== null && <p className="error" role="alert" data-testid="openapi-error">{error}</p>}
      <button type="submit" className="primary" disabled={isBusy} data-testid="openapi-register">Register</button>
    </form>
  );
}

/**
 * The platform public key in both forms the SDK takes as `alipayPublicKey`: the PEM file the
 * server serves, and the bare base64 as a text file.
 */
function PlatformKeyDownloads({ app }: { app: OpenApp }) {
  const base64Href = `data:text/plain;charset=utf-8,${encodeURIComponent(app.platformPublicKey.base64)}`;
  return (
    <>
      <a className="secondary small" href={`/v1/admin/openapi/apps/${app.appId}/platform-key`} download={`qianbao-platform-public-key-${app.appId}.pem`} data-testid="openapi-key-pem-download">Download platform key (PEM)</a>
      <a className="secondary small" href={base64Href} download={`qianbao-platform-public-key-${app.appId}.txt`} data-testid="openapi-key-base64-download">Download platform key (base64)</a>
    </>
  );
}

/** The platform public key to read or copy, in both forms. */
function PlatformKeyText({ app }: { app: OpenApp }) {
  return (
    <div data-testid="openapi-key">
      <div className="muted">Platform public key, SPKI PEM</div>
      <pre className="key-pem" data-testid="openapi-key-pem">{app.platformPublicKey.pem}</pre>
      <div className="muted">The same key as bare base64 (alipayPublicKey)</div>
      <pre className="key-pem" data-testid="openapi-key-base64">{app.platformPublicKey.base64}</pre>
    </div>
  );
}

/** A fresh registration: what to hand the ISV (app id and platform key). */
function RegisteredCard({ app, onDone }: { app: OpenApp; onDone: () => void }) {
  return (
    <section className="card api-key" data-testid="openapi-registered">
      <h3>Registered {app.name}</h3>
      <p>App id <code data-testid="openapi-registered-app-id">{app.appId}</code>. Give the ISV the app id and the platform public key below: its SDK checks every response and notification with it.</p>
      <PlatformKeyText app={app} />
      <div className="app-actions">
        <PlatformKeyDownloads app={app} />
      </div>
      <button type="button" className="primary small" onClick={onDone}>Done</button>
    </section>
  );
}

/** Sandbox credentials: the password and PIN are in this answer only, so they are shown once. */
function SandboxCard({ accounts, onDone }: { accounts: SandboxAccounts; onDone: () => void }) {
  const { buyer, seller } = accounts;
  return (
    <div className="api-key card" data-testid="openapi-sandbox">
      <h4>Sandbox accounts</h4>
      <p className="hint">Copy them now: the password and PIN are shown only this once.</p>
      <table className="credentials">
        <tbody>
          <tr><th>Buyer user id</th><td><code>{buyer.userId}</code></td></tr>
          <tr><th>Buyer id (buyer_id)</th><td><code data-testid="sandbox-buyer-id">{buyer.buyerId}</code></td></tr>
          <tr><th>Buyer mobile (log-in)</th><td><code data-testid="sandbox-mobile">{buyer.mobile}</code></td></tr>
          <tr><th>Buyer password</th><td><code data-testid="sandbox-password">{buyer.password}</code></td></tr>
          <tr><th>Buyer payment PIN</th><td><code data-testid="sandbox-pin">{buyer.pin}</code></td></tr>
          <tr><th>Buyer balance</th><td data-testid="sandbox-balance">¥{buyer.balance}</td></tr>
          <tr><th>Seller user id</th><td><code>{seller.userId}</code></td></tr>
          <tr><th>Seller id (seller_id)</th><td><code data-testid="sandbox-seller-id">{seller.buyerId}</code></td></tr>
          <tr><th>Seller mobile</th><td>{seller.mobile ?? '—'}</td></tr>
          <tr><th>Seller shop</th><td><code>{seller.shopId}</code></td></tr>
        </tbody>
      </table>
      <button type="button" className="primary small" onClick={onDone} data-testid="sandbox-done">I have saved them</button>
    </div>
  );
}

function MeteringView({ metering }: { metering: Metering }) {
  return (
    <div data-testid="openapi-metering">
      <p>
        Calls <strong data-testid="metering-calls">{metering.calls}</strong> · errors <strong data-testid="metering-errors">{metering.errors}</strong> (
        <span data-testid="metering-error-rate">{percent(metering.errorRate)}</span>) · p99 <span data-testid="metering-p99">{Math.round(metering.p99Ms)} ms</span>
      </p>
      {metering.methods.length > 0 && (
        <table>
          <thead><tr><th>Method</th><th>Calls</th><th>Errors</th><th>Error rate</th><th>p99</th></tr></thead>
          <tbody>
            {metering.methods.map((m) => (
              <tr key={m.method} data-testid="metering-method" data-method={m.method}>
                <td><code>{m.method}</code></td>
                <td>{m.calls}</td>
                <td>{m.errors}</td>
                <td>{percent(m.errorRate)}</td>
                <td>{Math.round(m.p99Ms)} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The delivery log of one app: each notification, its attempts, the last answer; re-send one now. */
function NotificationLog({ appId, canChange }: { appId: string; canChange: boolean }) {
  const listed = useLoad<{ notifications: Notification[] }>(`/v1/admin/openapi/notifications?appId=${appId}`);
  const notifications = listed.data?.notifications ?? null;
  const load = listed.reload;
  const [notice, setNotice] = useState<string | null>(null);
  const [resendError, setError] = useState<string | null>(null);
  const error = resendError ?? listed.error;
  async function resend(notifyId: string) {
    try {
      await api('POST', `/v1/admin/openapi/notifications/${notifyId}/resend`);
      setNotice(`Notification ${notifyId} queued to be sent again`);
      setError(null);
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <div data-testid="openapi-notifications">
      <div className="app-actions">
        <h4>Notification deliveries</h4>
        <button type="button" className="link" onClick={() => void load()} data-testid="notifications-refresh">Refresh</button>
      </div>
      {notice !== null && <p className="notice" role="status">{notice}</p>}
      {error !== null && <p className="error" role="alert">{error}</p>}
      {notifications?.length === 0 && <p className="muted">No notifications yet</p>}
      {notifications !== null && notifications.length > 0 && (
        <table>
          <thead><tr><th>Trade</th><th>Event</th><th>URL</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Last try</th><th>Next try</th><th /></tr></thead>
          <tbody>
            {notifications.map((n) => (
              <tr key={n.notifyId} data-testid="notification-row" data-status={n.status} title={`notify_id ${n.notifyId}`}>
                <td><code>{n.tradeNo}</code></td>
                <td>{n.event}</td>
                <td className="notify-url">{n.url}</td>
                <td><span className={`status status-${n.status}`}>{n.status}</span></td>
                <td>{n.attempts}</td>
                <td className="last-body" title={n.lastBody ?? ''}>{n.lastStatus === null ? '—' : `${String(n.lastStatus)} ${n.lastBody ?? ''}`}</td>
                <td>{when(n.lastAt)}</td>
                <td>{n.status === 'pending' ? when(n.nextAt) : '—'}</td>
                <td>{canChange && <button type="button" className="secondary small" onClick={() => void resend(n.notifyId)} data-testid="notification-resend">Re-send</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function AppCard({ app, canChange }: { app: ListedApp; canChange: boolean }) {
  const [isKeyShown, setIsKeyShown] = useState(false);
  const [isLogShown, setIsLogShown] = useState(false);
  const [sandbox, setSandbox] = useState<SandboxAccounts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  async function createSandbox() {
    setIsBusy(true);
    setError(null);
    try {
      setSandbox(await api<SandboxAccounts>('POST', `/v1/admin/openapi/apps/${app.appId}/sandbox-accounts`));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsBusy(false);
    }
  }
  return (
    <section className="card" data-testid="openapi-app" data-app-id={app.appId}>
      <h3>{app.name} <span className="status">{app.disabled ? 'disabled' : 'active'}</span></h3>
      <table className="credentials">
        <tbody>
          <tr><th>App id</th><td><code data-testid="openapi-app-id">{app.appId}</code></td></tr>
          <tr><th>Merchant shop</th><td><code>{app.shopId}</code></td></tr>
          <tr><th>Notify URLs</th><td>{app.notifyUrls.length === 0 ? '—' : app.notifyUrls.join(', ')}</td></tr>
          <tr><th>Rate limit</th><td>{app.ratePerSecond} calls a second</td></tr>
          <tr><th>Registered</th><td>{when(app.createdAt)}</td></tr>
        </tbody>
      </table>
      <MeteringView metering={app.metering} />
      <div className="app-actions">
        <button type="button" className="secondary small" onClick={() => { setIsKeyShown(!isKeyShown); }} data-testid="openapi-key-toggle">{isKeyShown ? 'Hide platform key' : 'Show platform key'}</button>
        {canChange && <button type="button" className="secondary small" disabled={isBusy} onClick={() => void createSandbox()} data-testid="openapi-sandbox-create">Create sandbox accounts</button>}
        <button type="button" className="secondary small" onClick={() => { setIsLogShown(!isLogShown); }} data-testid="openapi-notifications-toggle">{isLogShown ? 'Hide notifications' : 'Notifications'}</button>
        <PlatformKeyDownloads app={app} />
      </div>
      {isKeyShown && <PlatformKeyText app={app} />}
      {error !== null && <p className="error" role="alert">{error}</p>}
      {sandbox !== null && <SandboxCard accounts={sandbox} onDone={() => { setSandbox(null); }} />}
      {isLogShown && <NotificationLog appId={app.appId} canChange={canChange} />}
    </section>
  );
}

/**
 * 开放平台 · Open platform in the operator console: register an ISV app (its public key, the
 * merchant whose shop trades pay into, notify URLs, a rate limit) and hand over the platform public
 * key; each app's metering (calls, error rate, p99, per method), the platform key to download in
 * both forms, sandbox accounts (credentials shown once) and the notification delivery log with
 * re-send.
 */
export function OpenapiAdmin({ canChange }: { canChange: boolean }) {
  const listed = useLoad<{ apps: ListedApp[] }>('/v1/admin/openapi/apps');
  const apps = listed.data?.apps ?? null;
  const { error, reload: load } = listed;
  const [registered, setRegistered] = useState<OpenApp | null>(null);
  return (
    <>
      {canChange && (
        <RegisterAppForm
          onRegistered={async (app) => {
            setRegistered(app);
            await load();
          }}
        />
      )}
      {registered !== null && <RegisteredCard app={registered} onDone={() => { setRegistered(null); }} />}
      <section className="card" data-testid="openapi-apps">
        <div className="app-actions">
          <h3>Apps</h3>
          <button type="button" className="link" onClick={() => void load()} data-testid="openapi-refresh">Refresh</button>
        </div>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {apps?.length === 0 && <p className="muted">No apps yet</p>}
      </section>
      {apps?.map((app) => <AppCard key={app.appId} app={app} canChange={canChange} />)}
    </>
  );
}
