import { useLoad } from '../useLoad.ts';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, errorMessage, formatYuan } from '../api.ts';
import { labels, type Campaign, type CampaignList, type Fund, type FundingKind } from '../marketing.ts';
import { yuanToMinor } from '../money.ts';
import { CampaignDetailView } from './CampaignDetail.tsx';
import { CampaignForm } from './CampaignForm.tsx';

/**
 * 营销 · Marketing in the operator console: the kill switch, the funds budgets come from, the
 * approval queue, every campaign, the editor, and one campaign in detail. Viewers read.
 */
export function MarketingAdmin({ canChange }: { canChange: boolean }) {
  const { data: list, error, reload: load } = useLoad<CampaignList>('/v1/admin/campaigns');
  const [selectedId, setSelectedId] = useState<string | null>(null);
  /** The editor: closed, a new campaign, or a campaign being edited. */
  const [editing, setEditing] = useState<{ readonly campaign: Campaign | null } | null>(null);
  /** Bumped after any change, so the funds are read again (an approval draws on them). */
  const [changes, setChanges] = useState(0);


  const open = (id: string) => {
    setEditing(null);
    setSelectedId(id);
  };
  const saved = async (campaign: Campaign) => {
    setEditing(null);
    setSelectedId(campaign.id);
    await load();
  };
  const changed = async () => {
    setChanges((count) => count + 1);
    await load();
  };
  const campaigns = list?.campaigns ?? [];
  const pending = campaigns.filter((campaign) => campaign.status === 'pending_approval');
  return (
    <>
      <KillSwitch engaged={list?.killSwitch} canChange={canChange} onChanged={load} />
      <Funds canChange={canChange} changes={changes} />
      <section className="card" data-testid="approval-queue">
        <h3>Waiting for approval</h3>
        {pending.length === 0 && <p className="muted">Nothing waits for approval</p>}
        <ul className="list">
          {pending.map((campaign) => (
            <li key={campaign.id} data-testid="approval-item">
              <span>
                {campaign.name} <small className="muted">v{campaign.version} by {campaign.authorId}</small>
              </span>
              <span>exposure ¥{formatYuan(campaign.maximumExposureMinor)}</span>
              <button type="button" className="secondary small" onClick={() => { open(campaign.id); }} data-testid="approval-open">Review</button>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" data-testid="campaigns">
        <div className="rp-header">
          <h3>Campaigns</h3>
          {canChange && <button type="button" className="primary small" onClick={() => { setSelectedId(null); setEditing({ campaign: null }); }} data-testid="campaign-new">New campaign</button>}
        </div>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {list !== null && campaigns.length === 0 && <p className="muted">No campaigns yet</p>}
        <table>
          {campaigns.length > 0 && <thead><tr><th>Name</th><th>Status</th><th>Version</th><th>Label</th><th>Exposure</th><th>Changed</th><th /></tr></thead>}
          <tbody>
            {campaigns.map((campaign) => (
              <tr key={campaign.id} data-testid="campaign-row" data-status={campaign.status}>
                <td>{campaign.name}</td>
                <td><span className={`status status-${campaign.status}`}>{campaign.status}</span></td>
                <td>{campaign.version}</td>
                <td>{labels[campaign.definition.label].zh}</td>
                <td>¥{formatYuan(campaign.maximumExposureMinor)}</td>
                <td>{new Date(campaign.updatedAt).toLocaleString()}</td>
                <td><button type="button" className="link" onClick={() => { open(campaign.id); }} data-testid="campaign-open">Open</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {editing !== null && <CampaignForm key={editing.campaign?.id ?? 'new'} campaign={editing.campaign} onSaved={saved} onCancel={() => { setEditing(null); }} />}
      {selectedId !== null && editing === null && (
        <CampaignDetailView key={selectedId} id={selectedId} canChange={canChange} onEdit={(campaign) => { setEditing({ campaign }); }} onChanged={changed} />
      )}
    </>
  );
}

/** Guardrail 6: one switch stops every campaign's discounts at once (and fails closed). */
function KillSwitch({ engaged, canChange, onChanged }: { engaged: boolean | undefined; canChange: boolean; onChanged: () => Promise<void> }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isSending, setIsSending] = useState(false);
  async function toggle(event: SyntheticEvent) {
    event.preventDefault();
    if (engaged === undefined) return;
    if (reason.trim() === '') {
      setError('Say why (it is recorded with the switch)');
      return;
    }
    setError(null);
    setIsSending(true);
    try {
      await api<{ engaged: boolean }>('POST', '/v1/admin/marketing/kill-switch', { engaged: !engaged, reason: reason.trim() });
      setReason('');
      await onChanged();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsSending(false);
    }
  }
  return (
    <form className={`card kill-switch${engaged === true ? ' engaged' : ''}`} onSubmit={(event) => void toggle(event)} data-testid="kill-switch">
      <h3>Kill switch</h3>
      <p data-testid="kill-switch-state" data-engaged={engaged === undefined ? '' : String(engaged)}>
        {engaged === undefined ? '…' : engaged ? 'ENGAGED: no campaign discounts anything' : 'Released: live campaigns discount as approved'}
      </p>
      {canChange && (
        <>
          <input name="killSwitchReason" placeholder="reason (recorded)" value={reason} onChange={(e) => { setReason(e.target.value); }} />
          <button type="submit" className={engaged === true ? 'kill-button release' : 'kill-button'} disabled={isSending || engaged === undefined} data-testid="kill-switch-toggle">
            {engaged === true ? 'Release the kill switch' : 'STOP ALL DISCOUNTS'}
          </button>
        </>
      )}
      {error !== null && <p className="error" role="alert">{error}</p>}
    </form>
  );
}

/** The funds campaign budgets come from, by kind, and deposits into them. */
function Funds({ canChange, changes }: { canChange: boolean; changes: number }) {
  const [funds, setFunds] = useState<readonly Fund[]>([]);
  const [amounts, setAmounts] = useState<Readonly<Partial<Record<FundingKind, string>>>>({});
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setFunds((await api<{ funds: Fund[] }>('GET', '/v1/admin/marketing/funds')).funds);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load, changes]);
  async function deposit(kind: FundingKind) {
    const amountMinor = yuanToMinor((amounts[kind] ?? '').replace(/,/g, ''));
    if (amountMinor === undefined) {
      setError('An amount in yuan, like 1000.00');
      return;
    }
    setError(null);
    try {
      await api('POST', `/v1/admin/marketing/funds/${kind}/deposits`, { amountMinor });
      setAmounts({ ...amounts, [kind]: '' });
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <section className="card" data-testid="funds">
      <h3>Funds</h3>
      <table>
        <tbody>
          {funds.map((fund) => (
            <tr key={fund.kind}>
              <td>{fund.kind}</td>
              <td data-testid={`fund-balance-${fund.kind}`}>¥{formatYuan(fund.balanceMinor)}</td>
              <td><small className="muted">{fund.accountId}</small></td>
              {canChange && (
                <td>
                  <form className="row" onSubmit={(event) => { event.preventDefault(); void deposit(fund.kind); }}>
                    <input name={`fundDeposit-${fund.kind}`} inputMode="decimal" placeholder="deposit (CNY)" value={amounts[fund.kind] ?? ''} onChange={(e) => { setAmounts({ ...amounts, [fund.kind]: e.target.value }); }} />
                    <button type="submit" className="primary small" data-testid={`fund-deposit-${fund.kind}`}>Deposit</button>
                  </form>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {error !== null && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
