import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, errorMessage, formatYuan } from '../api.ts';
import { labels, pausedReason, stageFromEvents, type Campaign, type CampaignDetail, type Definition, type Forecast, type IncidentReport, type MarketingEvent, type Template } from '../marketing.ts';
import { BurnChart } from './BurnChart.tsx';

/**
 * One campaign in the console: what it is, where it stands (a paused campaign's reason first),
 * what to do next — submit, dry run, approve (four eyes, typing the exposure back), promote,
 * pause and resume, end, issue vouchers — the dry run's forecast, the live burn rate, the
 * incident report, its events, and every version with its diff. Refusals show the server's detail.
 */
export function describeTemplate(template: Template): string {
  switch (template.kind) {
    case 'fixed':
      return `¥${formatYuan(template.amountMinor)} off${template.minSpendMinor === undefined || template.minSpendMinor === '0' ? '' : ` from ¥${formatYuan(template.minSpendMinor)}`}`;
    case 'percent':
      return `${String(template.basisPoints / 100)}% off, ${template.capMinor === undefined || template.capMinor === null ? 'no cap' : `at most ¥${formatYuan(template.capMinor)} an order`}`;
    case 'random':
      return `a random ¥${formatYuan(template.minMinor)}–¥${formatYuan(template.maxMinor)} off`;
    case 'threshold':
      return `spend ¥${formatYuan(template.thresholdMinor)}, get ¥${formatYuan(template.amountMinor)} off`;
    case 'voucher':
      return `¥${formatYuan(template.amountMinor)} voucher from ¥${formatYuan(template.minSpendMinor)}, valid ${String(template.validDays)} days`;
  }
}

function describeSegment(segment: Definition['segment']): string {
  switch (segment.kind) {
    case 'all':
      return 'all users';
    case 'new_users':
      return `users who signed up within ${String(segment.withinDays)} days`;
    case 'list':
      return `${String(segment.userIds.length)} listed users`;
  }
}

/** A diff value as text: JSON for objects, "—" for absent. */
function valueText(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function eventText(event: MarketingEvent): string {
  const reason = event.detail['reason'];
  if (typeof reason === 'string') return reason;
  return JSON.stringify(event.detail);
}

/** Yuan as the approver types it ("2,000.00", "2000") → fen digits; undefined when not an amount. */
export function exposureInput(text: string): string | undefined {
  const match = /^([0-9]{1,16})(?:\.([0-9]{1,2}))?$/.exec(text.trim().replace(/^¥/, '').replace(/,/g, ''));
  if (match === null) return undefined;
  return `${match[1] ?? '0'}${(match[2] ?? '').padEnd(2, '0')}`.replace(/^0+(?=\d)/, '');
}

export function ForecastTable({ forecast }: { forecast: Forecast }) {
  const rows: [string, string][] = [
    ['Version', String(forecast.version)],
    ['Spend per minute (average)', `¥${formatYuan(forecast.perMinuteMinor)}`],
    ['Peak minute', `¥${formatYuan(forecast.peakPerMinuteMinor)}`],
    ['Total over the window', `¥${formatYuan(forecast.totalMinor)}`],
    ['Payments considered', String(forecast.paymentsConsidered)],
    ['Payments discounted', String(forecast.paymentsDiscounted)],
    ['Window', `${String(forecast.windowMinutes)} minutes${forecast.source === undefined ? '' : ` (${forecast.source})`}`],
    ['Maximum exposure', `¥${formatYuan(forecast.maximumExposureMinor)}`],
  ];
  const scenes = Object.entries(forecast.scenes);
  return (
    <div data-testid="dry-run">
      <h4>Dry run forecast</h4>
      <table className="rain-detail">
        <tbody>
          {rows.map(([label, value]) => <tr key={label}><th>{label}</th><td>{value}</td></tr>)}
        </tbody>
      </table>
      <table>
        <thead><tr><th>Scene</th><th>Payments discounted</th><th>Discount</th></tr></thead>
        <tbody>
          {scenes.length === 0 && <tr><td colSpan={3} className="muted">No payment in the window would have been discounted</td></tr>}
          {scenes.map(([scene, value]) => (
            <tr key={scene} data-testid="dry-run-scene"><td>{scene}</td><td>{value.count}</td><td>¥{formatYuan(value.minor)}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReportView({ report }: { report: IncidentReport }) {
  return (
    <div data-testid="campaign-report">
      <h4>Incident report</h4>
      <p>
        ¥{formatYuan(report.totalMinor)} in {report.count} payments · budget left ¥{formatYuan(report.budgetLeftMinor)}
      </p>
      <table>
        <thead><tr><th>Scene</th><th>Payments</th><th>Discount</th></tr></thead>
        <tbody>{report.byScene.map((row) => <tr key={row.scene}><td>{row.scene}</td><td>{row.count}</td><td>¥{formatYuan(row.minor)}</td></tr>)}</tbody>
      </table>
      <table>
        <thead><tr><th>Payment</th><th>Kind</th><th>Scene</th><th>User</th><th>Paid</th><th>Discount</th><th>At</th></tr></thead>
        <tbody>
          {report.payments.map((payment) => (
            <tr key={payment.id} data-testid="report-payment">
              <td title={payment.id}>{payment.id.slice(0, 16)}…</td>
              <td>{payment.kind}</td>
              <td>{payment.scene}</td>
              <td title={payment.userId}>{payment.userId.slice(0, 12)}…</td>
              <td>¥{formatYuan(payment.paidMinor)}</td>
              <td>¥{formatYuan(payment.discountMinor)}</td>
              <td>{new Date(payment.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function CampaignDetailView({ id, canChange, onEdit, onChanged }: { id: string; canChange: boolean; onEdit: (campaign: Campaign) => void; onChanged: () => Promise<void> }) {
  const [detail, setDetail] = useState<CampaignDetail | null>(null);
  const [events, setEvents] = useState<readonly MarketingEvent[]>([]);
  const [forecast, setForecast] = useState<Forecast | null>(null);
  const [report, setReport] = useState<IncidentReport | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  const [exposure, setExposure] = useState('');
  const [reason, setReason] = useState('');
  const [voucherUsers, setVoucherUsers] = useState('');
  const base = `/v1/admin/campaigns/${encodeURIComponent(id)}`;

  const load = useCallback(async () => {
    try {
      const [campaign, list] = await Promise.all([api<CampaignDetail>('GET', base), api<{ events: MarketingEvent[] }>('GET', `/v1/admin/marketing/events?campaignId=${encodeURIComponent(id)}`)]);
      setDetail(campaign);
      setEvents(list.events);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, [base, id]);
  useEffect(() => {
    void load();
  }, [load]);

  /** Runs one action: its message on success, the server's detail on refusal; then everything is read again. */
  async function act(run: () => Promise<string>) {
    setIsBusy(true);
    setMessage(null);
    setError(null);
    try {
      setMessage(await run());
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsBusy(false);
    }
    await load();
    await onChanged();
  }

  if (detail === null) return <section className="card">{error ?? 'Loading…'}</section>;
  const definition = detail.definition;
  const status = detail.status;
  const paused = status === 'paused' ? pausedReason(events) : undefined;
  const stage = detail.stage ?? stageFromEvents(events);
  const shownForecast = forecast ?? detail.forecast ?? null;
  const isLive = status === 'active' || status === 'paused';
  const approve = async (event: SyntheticEvent) => {
    event.preventDefault();
    const confirmed = exposureInput(exposure);
    if (confirmed === undefined) {
      setError('Type the maximum exposure shown, in yuan (like 1,000.00)');
      return;
    }
    await act(async () => {
      await api('POST', `${base}/approve`, { confirmedExposureMinor: confirmed });
      setExposure('');
      return 'Approved: the budget moved from its fund and the campaign is live';
    });
  };
  const rows: [string, string, string?][] = [
    ['Status', `${status}${stage === undefined ? '' : ` · rollout ${stage}`}`, 'campaign-status'],
    ['Version', String(detail.version), 'campaign-version'],
    ['Template', describeTemplate(definition.template), 'campaign-template'],
    ['Label', `${labels[definition.label].zh} · ${labels[definition.label].en}`],
    ['Budget', definition.budget === null ? 'none' : `¥${formatYuan(definition.budget.amountMinor)} from the ${definition.budget.funding} fund`],
    ['Maximum exposure', `¥${formatYuan(detail.maximumExposureMinor)}`, 'campaign-exposure'],
    ['Scenes', definition.scenes.map((grant) => (grant.reason === undefined ? grant.scene : `${grant.scene} (${grant.reason})`)).join(', ')],
    ['Who', `${describeSegment(definition.segment)}${definition.testUserIds === undefined || definition.testUserIds.length === 0 ? '' : `; test list ${String(definition.testUserIds.length)}`}`],
    ['Per user', `${String(definition.perUser.countPerDay)} a day up to ¥${formatYuan(definition.perUser.minorPerDay)}; ${String(definition.perUser.countPerCampaign)} in all up to ¥${formatYuan(definition.perUser.minorPerCampaign)}`],
    ['Window', `${new Date(definition.startsAt).toLocaleString()} – ${new Date(definition.endsAt).toLocaleString()}`],
    ['Author / approver', `${detail.authorId} / ${detail.approvedBy ?? '—'}`],
  ];
  return (
    <section className="card campaign-detail" data-testid="campaign-detail">
      <h3>
        {detail.name} <small className="muted">{detail.id}</small>
      </h3>
      {paused !== undefined && (
        <p className="paused-reason" role="alert" data-testid="campaign-paused-reason">
          Paused{paused.kind === 'breaker' ? ' by the breaker' : ''}: {eventText(paused)} <small>({new Date(paused.createdAt).toLocaleString()})</small>
        </p>
      )}
      <table className="rain-detail">
        <tbody>{rows.map(([label, value, testId]) => <tr key={label}><th>{label}</th><td data-testid={testId}>{value}</td></tr>)}</tbody>
      </table>
      {canChange && (
        <div className="campaign-actions">
          {status !== 'ended' && <button type="button" className="secondary" disabled={isBusy} onClick={() => { onEdit(detail); }} data-testid="campaign-edit">Edit</button>}
          {status === 'draft' && (
            <button type="button" className="secondary" disabled={isBusy} data-testid="campaign-submit" onClick={() => void act(async () => {
              await api('POST', `${base}/submit`);
              return 'Sent for approval';
            })}>Submit for approval</button>
          )}
          {status !== 'ended' && (
            <button type="button" className="secondary" disabled={isBusy} data-testid="campaign-dry-run" onClick={() => void act(async () => {
              const result = await api<Forecast>('POST', `${base}/dry-run`, {});
              setForecast(result);
              return `Dry run of version ${String(result.version)}: ¥${formatYuan(result.totalMinor)} over ${String(result.windowMinutes)} minutes`;
            })}>Dry run</button>
          )}
          {status === 'active' && (
            <button type="button" className="secondary" disabled={isBusy} data-testid="campaign-promote" onClick={() => void act(async () => {
              const promoted = await api<{ stage: string }>('POST', `${base}/promote`);
              return `Promoted to ${promoted.stage}`;
            })}>Promote rollout</button>
          )}
          {isLive && (
            <button type="button" className="danger" disabled={isBusy} data-testid="campaign-end" onClick={() => void act(async () => {
              const ended = await api<{ status: string; returnedMinor: string }>('POST', `${base}/end`);
              return `Ended (${ended.status}): ¥${formatYuan(ended.returnedMinor)} went back to the fund`;
            })}>End campaign</button>
          )}
          <button type="button" className="link" disabled={isBusy} data-testid="campaign-report-open" onClick={() => void act(async () => {
            setReport(await api<IncidentReport>('GET', `${base}/report`));
            return 'Incident report below';
          })}>Incident report</button>
        </div>
      )}
      {canChange && isLive && (
        <form className="row" onSubmit={(event) => { event.preventDefault(); }}>
          <input name="pauseReason" placeholder="reason (at least 3 characters)" value={reason} onChange={(e) => { setReason(e.target.value); }} />
          {status === 'active' ? (
            <button type="button" className="danger" disabled={isBusy} data-testid="campaign-pause" onClick={() => void act(async () => {
              await api('POST', `${base}/pause`, { reason });
              setReason('');
              return 'Paused';
            })}>Pause</button>
          ) : (
            <button type="button" className="primary" disabled={isBusy} data-testid="campaign-resume" onClick={() => void act(async () => {
              await api('POST', `${base}/resume`, { reason });
              setReason('');
              return 'Resumed';
            })}>Resume</button>
          )}
        </form>
      )}
      {canChange && status === 'pending_approval' && (
        <form className="approve" onSubmit={(event) => void approve(event)} data-testid="campaign-approval">
          <p>
            Four eyes: the author cannot approve. This campaign can spend at most <strong data-testid="approve-exposure">¥{formatYuan(detail.maximumExposureMinor)}</strong>. Read the dry run, then type that figure to confirm it.
          </p>
          <div className="row">
            <input name="confirmExposure" inputMode="decimal" placeholder="maximum exposure (CNY)" value={exposure} onChange={(e) => { setExposure(e.target.value); }} />
            <button type="submit" className="primary" disabled={isBusy} data-testid="campaign-approve">Approve</button>
          </div>
        </form>
      )}
      {canChange && isLive && definition.template.kind === 'voucher' && (
        <form className="row" onSubmit={(event) => {
          event.preventDefault();
          const userIds = voucherUsers.split(/[\s,]+/).filter((value) => value !== '');
          void act(async () => {
            const issued = await api<{ issued: number }>('POST', `${base}/vouchers`, { userIds });
            setVoucherUsers('');
            return `Issued ${String(issued.issued)} voucher(s)`;
          });
        }}>
          <textarea name="voucherUserIds" rows={2} placeholder="user ids, one a line" value={voucherUsers} onChange={(e) => { setVoucherUsers(e.target.value); }} />
          <button type="submit" className="primary" disabled={isBusy} data-testid="campaign-issue-vouchers">Issue vouchers</button>
        </form>
      )}
      {message !== null && <p className="notice" role="status" data-testid="campaign-message">{message}</p>}
      {error !== null && <p className="error" role="alert" data-testid="campaign-error">{error}</p>}
      {shownForecast !== null && <ForecastTable forecast={shownForecast} />}
      {status !== 'draft' && status !== 'pending_approval' && <BurnChart campaignId={id} isLive={isLive} />}
      {report !== null && <ReportView report={report} />}
      <h4>Events</h4>
      {events.length === 0 && <p className="muted">None yet</p>}
      <table data-testid="campaign-events">
        <tbody>
          {events.map((event) => (
            <tr key={event.id} data-testid="campaign-event" data-kind={event.kind}>
              <td>{new Date(event.createdAt).toLocaleString()}</td>
              <td>{event.kind}</td>
              <td>{event.actor}</td>
              <td>{eventText(event)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Versions</h4>
      <ol className="versions" data-testid="campaign-versions">
        {[...detail.versions].reverse().map((version) => (
          <li key={version.version} data-testid="campaign-version-item">
            <div>
              v{version.version} by {version.authorId} · {new Date(version.createdAt).toLocaleString()}
            </div>
            {version.diff.length === 0 ? (
              <small className="muted">{version.version === 1 ? 'first version' : 'no change'}</small>
            ) : (
              <table>
                <thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead>
                <tbody>
                  {version.diff.map((change) => (
                    <tr key={change.path} data-testid="campaign-diff"><td>{change.path}</td><td><del>{valueText(change.before)}</del></td><td><ins>{valueText(change.after)}</ins></td></tr>
                  ))}
                </tbody>
              </table>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
