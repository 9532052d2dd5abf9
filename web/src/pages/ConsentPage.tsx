import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '../api.ts';
import { Choice } from '../components/Choice.tsx';
import { accessDataText, accessorKindName, dayText, purposeName, refusalText, scopeName, timeText, type AccessEntry, type ConsentText, type Grant, type GrantState, type Partner } from '../credit.ts';
import { fill, useI18n, type MessageKey } from '../i18n.tsx';
import { hashParam } from '../router.ts';

const stateKeys: Readonly<Record<GrantState, MessageKey>> = { live: 'grant_live', expired: 'grant_expired', revoked: 'grant_revoked' };
const stateOrder: Readonly<Record<GrantState, number>> = { live: 0, expired: 1, revoked: 2 };

/** Live grants first, then the rest; newest first within each. */
function sortGrants(grants: readonly Grant[]): Grant[] {
  return [...grants].sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || b.agreedAt.localeCompare(a.agreedAt));
}

/** The text a grant agreed to, read by its purpose when opened; an older version is said to be one. */
function GrantText({ grant }: { grant: Grant }) {
  const { t, lang } = useI18n();
  const [text, setText] = useState<ConsentText | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<ConsentText>('GET', `/v1/consent/texts/${encodeURIComponent(grant.purpose)}`).then(setText, (caught: unknown) => {
      setError(errorMessage(caught));
    });
  }, [grant.purpose]);
  if (error !== null) return <p className="error" role="alert">{error}</p>;
  if (text === null) return <p className="muted">{t('loading')}</p>;
  return (
    <div className="grant-text" data-testid="grant-text">
      {text.sha256 !== grant.textSha256 && <p className="hint">{fill(t('grant_olderText'), { version: grant.textVersion, current: text.version })}</p>}
      <p>{text[lang]}</p>
      <p className="muted">{fill(t('consent_version'), { version: text.version, sha: `${text.sha256.slice(0, 12)}…` })}</p>
    </div>
  );
}

function GrantRow({ grant, partnerName, onRevoke }: { grant: Grant; partnerName: string | null; onRevoke: (grant: Grant) => Promise<void> }) {
  const { t, lang } = useI18n();
  const [isTextOpen, setIsTextOpen] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const until =
    grant.state === 'revoked' && grant.revokedAt !== null
      ? fill(t('grant_revokedAt'), { date: timeText(grant.revokedAt, lang) })
      : fill(t(grant.state === 'expired' ? 'grant_expiredAt' : 'grant_expiresAt'), { date: dayText(grant.expiresAt, lang) });
  return (
    <li className={`grant ${grant.state}`} data-testid="grant" data-purpose={grant.purpose} data-state={grant.state} data-partner-id={grant.partnerId ?? ''}>
      <div className="grant-head">
        <strong>{purposeName(grant.purpose, lang)}</strong>
        <span className={`state state-${grant.state}`} data-testid="grant-state">{t(stateKeys[grant.state])}</span>
      </div>
      {partnerName !== null && <div data-testid="grant-partner">{fill(t('grant_partner'), { name: partnerName })}</div>}
      <div>{fill(t('grant_scope'), { scope: scopeName(grant.scope, lang) })}</div>
      <div className="muted">
        {fill(t('grant_agreedAt'), { date: timeText(grant.agreedAt, lang) })} · <span data-testid="grant-until">{until}</span>
      </div>
      <div className="row-actions">
        <button type="button" className="link" onClick={() => { setIsTextOpen(!isTextOpen); }} data-testid="grant-view-text">
          {isTextOpen ? t('grant_hideText') : fill(t('grant_viewText'), { version: grant.textVersion })}
        </button>
        {grant.state === 'live' && (
          <button
            type="button"
            className="danger small"
            disabled={isBusy}
            onClick={() => {
              setIsBusy(true);
              void onRevoke(grant).finally(() => {
                setIsBusy(false);
              });
            }}
            data-testid="grant-revoke"
          >
            {t('grant_revoke')}
          </button>
        )}
      </div>
      {isTextOpen && <GrantText grant={grant} />}
    </li>
  );
}

function AccessLog() {
  const { t, lang } = useI18n();
  const [entries, setEntries] = useState<readonly AccessEntry[] | null>(null);
  const [filter, setFilter] = useState<'all' | 'allowed' | 'refused'>('all');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ entries: AccessEntry[] }>('GET', '/v1/consent/access-log').then(
      (log) => {
        setEntries(log.entries);
      },
      (caught: unknown) => {
        setError(errorMessage(caught));
      },
    );
  }, []);
  const shown = (entries ?? []).filter((entry) => filter === 'all' || entry.outcome === filter);
  return (
    <section className="card" data-testid="access-log">
      <h2>{t('dataUse')}</h2>
      <p className="muted">{t('log_hint')}</p>
      <div className="blue-tabs">
        <Choice values={['all', 'allowed', 'refused'] as const} value={filter} onChange={setFilter} label={(value) => t(value === 'all' ? 'all' : value === 'allowed' ? 'log_allowed' : 'log_refused')} testIdPrefix="log-filter" />
      </div>
      {error !== null && <p className="error" role="alert">{error}</p>}
      {entries === null && error === null && <p className="muted">{t('loading')}</p>}
      {entries !== null && shown.length === 0 && <p className="muted" data-testid="access-none">{t('log_none')}</p>}
      <ul className="list access-entries" data-testid="access-entries">
        {shown.map((entry) => (
          <li key={entry.id} className={`access ${entry.outcome}`} data-testid="access-entry" data-outcome={entry.outcome} data-purpose={entry.purpose}>
            <div className="grant-head">
              <strong data-testid="access-accessor">{entry.accessor.name}</strong>
              <span className={`state state-${entry.outcome}`}>{t(entry.outcome === 'allowed' ? 'log_allowed' : 'log_refused')}</span>
            </div>
            <div className="muted">{accessorKindName(entry.accessor.kind, lang)} · {timeText(entry.at, lang)}</div>
            <div>{fill(t('log_purpose'), { purpose: purposeName(entry.purpose, lang) })}</div>
            <div data-testid="access-data">{fill(t('log_data'), { data: accessDataText(entry.data, lang) })}</div>
            {entry.reason !== null && <div className="error" data-testid="access-reason">{fill(t('log_reason'), { reason: refusalText(entry.reason, lang) })}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Grants() {
  const { t } = useI18n();
  const [grants, setGrants] = useState<readonly Grant[] | null>(null);
  const [partners, setPartners] = useState<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const [list, known] = await Promise.all([api<{ grants: Grant[] }>('GET', '/v1/consent/grants'), api<{ partners: Partner[] }>('GET', '/v1/partners')]);
      setGrants(sortGrants(list.grants));
      setPartners(new Map(known.partners.map((partner) => [partner.id, partner.name])));
      setError(null);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const revoke = async (grant: Grant) => {
    try {
      await api<Grant>('POST', `/v1/consent/grants/${grant.id}/revoke`);
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };
  return (
    <section className="card" data-testid="grants">
      <h2>{t('grants_title')}</h2>
      <p className="muted">{t('grants_hint')}</p>
      {error !== null && <p className="error" role="alert">{error}</p>}
      {grants === null && error === null && <p className="muted">{t('loading')}</p>}
      {grants?.length === 0 && <p className="muted" data-testid="grants-none">{t('grants_none')}</p>}
      <ul className="list grants">
        {grants?.map((grant) => (
          <GrantRow key={grant.id} grant={grant} partnerName={grant.partnerId === null ? null : (partners.get(grant.partnerId) ?? grant.partnerId)} onRevoke={revoke} />
        ))}
      </ul>
    </section>
  );
}

/** 授权管理: my grants (state, purpose, partner, expiry, the text, revoke) and 谁用了我的数据. */
export function ConsentPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<'grants' | 'log'>(hashParam('tab') === 'log' ? 'log' : 'grants');
  return (
    <main className="page">
      <h1 className="page-title">{t('consentCentre')}</h1>
      <div className="page-tabs blue-tabs">
        <Choice values={['grants', 'log'] as const} value={tab} onChange={setTab} label={(value) => t(value === 'grants' ? 'grants_title' : 'dataUse')} testIdPrefix="consent-tab" />
      </div>
      {tab === 'grants' ? <Grants /> : <AccessLog />}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
