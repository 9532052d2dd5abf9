import { formatYuan, type Me } from '../api.ts';
import { navigate, type Route } from '../router.ts';
import { useI18n, type MessageKey } from '../i18n.tsx';

const actions: readonly { key: MessageKey; icon: string; route?: Route }[] = [
  { key: 'scan', icon: '⌗', route: 'pay' },
  { key: 'payCode', icon: '▦', route: 'paycode' },
  { key: 'transfer', icon: '⇄', route: 'transfer' },
  { key: 'bills', icon: '☰', route: 'bills' },
];

const tiles: readonly { key: MessageKey; icon: string; route?: Route; params?: Readonly<Record<string, string>> }[] = [
  { key: 'shop', icon: '🏪', route: 'shop' },
  { key: 'friends', icon: '👥', route: 'friends' },
  { key: 'groups', icon: '💬', route: 'groups' },
  { key: 'redPackets', icon: '🧧', route: 'redpackets' },
  { key: 'rain', icon: '⏰', route: 'rain' },
  { key: 'vouchers', icon: '🎟', route: 'vouchers' },
  { key: 'credit', icon: '✓', route: 'credit' },
  { key: 'consentCentre', icon: '🔐', route: 'consent' },
  { key: 'dataUse', icon: '👁', route: 'consent', params: { tab: 'log' } },
  { key: 'annualBill', icon: '📅', route: 'annual-bill' },
  { key: 'depositFree', icon: '🚲', route: 'bike' },
  { key: 'fortune', icon: '福' },
  { key: 'forest', icon: '🌳' },
  { key: 'wealth', icon: '📈' },
];

export function HomePage({ me, onLogout }: { me: Me; onLogout: () => Promise<void> }) {
  const { t, toggle } = useI18n();
  return (
    <main className="home">
      <header className="home-header">
        <span data-testid="greeting">
          {t('welcome')}
          {me.user.displayName}
        </span>
        <span>
          <button type="button" className="link light" onClick={toggle} data-testid="lang">
            {t('language')}
          </button>
          <button type="button" className="link light" onClick={() => void onLogout()} data-testid="logout">
            {t('logout')}
          </button>
        </span>
      </header>
      <section className="balance card">
        <div className="muted">{t('balance')}</div>
        <div className="amount" data-testid="balance">
          ¥{formatYuan(me.balance.balanceMinor)}
        </div>
        <div className="muted">
          {t('available')} ¥{formatYuan(me.balance.availableMinor)} · {me.user.realNameVerified ? t('realNameDone') : t('realNameNeeded')}
        </div>
        <div className="row-actions">
          <button type="button" className="primary small" onClick={() => { navigate('topup'); }} data-testid="action-topup">{t('topup')}</button>
        </div>
        {!me.user.hasPin && (
          <button type="button" className="link hint" onClick={() => { navigate('pin'); }} data-testid="set-pin">
            {t('setPinHint')} → {t('setPin')}
          </button>
        )}
      </section>
      <nav className="actions">
        {actions.map((action) => (
          <button type="button" key={action.key} className="action" data-testid={`action-${action.key}`} onClick={() => { if (action.route !== undefined) navigate(action.route); }}>
            <span className="icon">{action.icon}</span>
            {t(action.key)}
          </button>
        ))}
      </nav>
      <section className="tiles">
        {tiles.map((tile) => (
          <button type="button" key={tile.key} className="tile" data-testid={`tile-${tile.key}`} disabled={tile.route === undefined} onClick={() => { if (tile.route !== undefined) navigate(tile.route, tile.params); }}>
            <span className="icon">{tile.icon}</span>
            <span>{t(tile.key)}</span>
            {tile.route === undefined && <small className="muted">{t('comingSoon')}</small>}
          </button>
        ))}
      </section>
    </main>
  );
}
