import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Ledger } from '../ledger/index.ts';
import { toDraft, type CampaignRow, type Campaigns, type Forecast } from './campaigns.ts';
import { lastDayPayments, replay, type ReplayPayment } from './dry-run.ts';
import { returnBudget } from './funds.ts';
import { breakerTrip, perOrderMaxMinor, rolloutStages, type BreakerTrip, type Scene } from './model.ts';
import { insertEvent, insertVouchers, selectSpendByMinute, selectSpendSince, selectTouched, type SpendRow } from './store.ts';

/**
 * What operators and the breaker do to live campaigns: the dry run (guardrail 2), staged rollout
 * promotion (4), the burn-rate breaker (5), pause, resume and end, vouchers, and the incident
 * report. Every change is an event with its actor and reason, which the console shows.
 */
export interface OperationsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly ledger: Ledger;
  readonly campaigns: Campaigns;
  /** The breaker's k: pause when spend per minute runs over k × the forecast (default 3). */
  readonly breakerFactor?: number;
  readonly onChange?: () => void;
}

/** The share of users each rollout stage reaches (a test list counts as the first percent). */
const stageFraction: Record<CampaignRow['stage'], { num: bigint; den: bigint }> = {
  test_list: { num: 1n, den: 100n },
  pct1: { num: 1n, den: 100n },
  pct10: { num: 1n, den: 10n },
  pct100: { num: 1n, den: 1n },
};

/** How far back the breaker looks: spend in the last minute. Promotion looks at the last ten. */
const breakerWindowMs = 60_000;
const promotionWindowMs = 600_000;

export class CampaignOperations {
  constructor(private readonly deps: OperationsDeps) {}

  private get factor(): number {
    return this.deps.breakerFactor ?? 3;
  }

  /** Guardrail 2: replays the current version and keeps the forecast with it. */
  async dryRun(id: string, sample?: { readonly minutes: number; readonly payments: readonly Omit<ReplayPayment, 'atMs'>[] }): Promise<Forecast> {
    const row = await this.deps.campaigns.get(id);
    const now = this.deps.clock.nowMs();
    const payments = sample === undefined ? await lastDayPayments(this.deps.sql, now) : sample.payments.map((p, i) => ({ ...p, atMs: now - sample.minutes * 60_000 + Math.floor((i * sample.minutes * 60_000) / Math.max(1, sample.payments.length)) }));
    const forecast = replay(toDraft(row.definition), payments, sample?.minutes ?? 1440, sample === undefined ? 'last_24h' : 'sample', row.version, now);
    const updated = await this.deps.sql`UPDATE marketing_campaigns SET forecast = ${this.deps.sql.json(forecast as never)} WHERE id = ${id} AND version = ${row.version} RETURNING id`;
    if (updated.length === 0) throw new DomainError('marketing.wrong_status', { detail: 'the campaign changed during the dry run; run it again' });
    return forecast;
  }

  /** What the breaker allows per minute at the campaign's stage: k × the forecast, at least k orders' worth. */
  private expectedPerMinute(row: CampaignRow): bigint {
    const fraction = stageFraction[row.stage];
    const forecast = row.forecast === null ? 0n : (BigInt(row.forecast.perMinuteMinor) * fraction.num + fraction.den - 1n) / fraction.den;
    const oneOrder = perOrderMaxMinor(toDraft(row.definition).template) ?? 0n;
    return forecast > oneOrder ? forecast : oneOrder;
  }

  private trip(row: CampaignRow, spend: readonly SpendRow[]): BreakerTrip | undefined {
    const mine = spend.filter((s) => s.campaign_id === row.id);
    return breakerTrip({
      spentLastMinuteMinor: mine.reduce((sum, s) => sum + s.minor, 0n),
      forecastPerMinuteMinor: this.expectedPerMinute(row),
      factor: this.factor,
      scenesSpending: new Set(mine.map((s) => s.scene as Scene)),
      forecastScenes: new Set(Object.keys(row.forecast?.scenes ?? {}) as Scene[]),
    });
  }

  /**
   * Guardrail 5, one pass (run every second): each active campaign's last minute of spend against
   * its forecast; a trip pauses it at once, with the reason recorded. Answers how many it paused.
   */
  async breakerPass(): Promise<number> {
    const active = await this.deps.sql<CampaignRow[]>`SELECT * FROM marketing_campaigns WHERE status = 'active'`;
    if (active.length === 0) return 0;
    const spend = await selectSpendSince(this.deps.sql, active.map((r) => r.id), new Date(this.deps.clock.nowMs() - breakerWindowMs));
    let paused = 0;
    for (const row of active) {
      const trip = this.trip(row, spend);
      if (trip === undefined) continue;
      const reason = trip.reason === 'unforecast_scene' ? `breaker: scene ${trip.scene} started spending and was not in the forecast` : `breaker: ${trip.spentPerMinuteMinor.toString()} fen in the last minute, over ${String(trip.factor)} × the forecast ${trip.forecastPerMinuteMinor.toString()} fen/min`;
      if (await this.pause('breaker', row.id, reason, { ...trip, spentPerMinuteMinor: 'spentPerMinuteMinor' in trip ? trip.spentPerMinuteMinor.toString() : undefined, forecastPerMinuteMinor: 'forecastPerMinuteMinor' in trip ? trip.forecastPerMinuteMinor.toString() : undefined }, 'breaker')) paused += 1;
    }
    return paused;
  }

  /** Pauses an active campaign; false when it was not active. */
  async pause(actor: string, id: string, reason: string, detail: object = {}, kind: 'paused' | 'breaker' = 'paused'): Promise<boolean> {
    const now = this.deps.clock.now();
    const rows = await this.deps.sql`
      UPDATE marketing_campaigns SET status = 'paused', paused_reason = ${reason}, paused_at = ${now}, paused_by = ${actor}, updated_at = ${now}
      WHERE id = ${id} AND status = 'active' RETURNING id`;
    if (rows.length === 0) return false;
    await insertEvent(this.deps.sql, { campaignId: id, kind, detail: { reason, ...detail }, actor, at: now });
    this.deps.onChange?.();
    return true;
  }

  async resume(operatorId: string, id: string, reason: string): Promise<CampaignRow> {
    const now = this.deps.clock.now();
    const rows = await this.deps.sql`
      UPDATE marketing_campaigns SET status = 'active', paused_reason = NULL, paused_at = NULL, paused_by = NULL, updated_at = ${now}
      WHERE id = ${id} AND status = 'paused' RETURNING id`;
    if (rows.length === 0) {
      await this.deps.campaigns.get(id);
      throw new DomainError('marketing.wrong_status', { detail: 'only a paused campaign can be resumed' });
    }
    await insertEvent(this.deps.sql, { campaignId: id, kind: 'resumed', detail: { reason }, actor: operatorId, at: now });
    this.deps.onChange?.();
    return this.deps.campaigns.get(id);
  }

  /** Ends a campaign for good: no more discounts, and what is left of its budget goes back to its fund. */
  async end(operatorId: string, id: string): Promise<{ readonly campaign: CampaignRow; readonly returnedMinor: bigint }> {
    const row = await this.deps.campaigns.get(id);
    if (row.status === 'draft' || row.status === 'pending_approval') throw new DomainError('marketing.wrong_status', { detail: 'a campaign that never ran is edited, not ended' });
    const now = this.deps.clock.now();
    await this.deps.sql`UPDATE marketing_campaigns SET status = 'ended', updated_at = ${now} WHERE id = ${id} AND status IN ('active', 'paused')`;
    this.deps.onChange?.();
    const budget = row.definition.budget;
    const returned = row.budget_account_id === null || budget === null ? 0n : await returnBudget(this.deps.ledger, { campaignId: id, kind: budget.funding, budgetAccountId: row.budget_account_id });
    if (row.status !== 'ended') await insertEvent(this.deps.sql, { campaignId: id, kind: 'ended', detail: { returnedMinor: returned.toString() }, actor: operatorId, at: now });
    return { campaign: await this.deps.campaigns.get(id), returnedMinor: returned };
  }

  /**
   * Guardrail 4: the next rollout stage, only while spend tracks the forecast — over the last ten
   * minutes no minute ran over k × the stage's forecast and no unforecast scene spent.
   */
  async promote(operatorId: string, id: string): Promise<CampaignRow> {
    const row = await this.deps.campaigns.get(id);
    if (row.status !== 'active') throw new DomainError('marketing.wrong_status', { detail: 'only an active campaign is promoted' });
    const next = rolloutStages[rolloutStages.indexOf(row.stage) + 1];
    if (next === undefined) throw new DomainError('marketing.wrong_status', { detail: 'the campaign already reaches every user' });
    const minutes = await selectSpendByMinute(this.deps.sql, id, new Date(this.deps.clock.nowMs() - promotionWindowMs));
    const byMinute = new Map<number, SpendRow[]>();
    for (const m of minutes) byMinute.set(m.minute.getTime(), [...(byMinute.get(m.minute.getTime()) ?? []), { campaign_id: id, scene: m.scene, minor: m.minor, count: 0n }]);
    for (const [minute, spend] of byMinute) {
      const trip = this.trip(row, spend);
      if (trip !== undefined) throw new DomainError('marketing.promotion_refused', { detail: `the minute from ${new Date(minute).toISOString()} did not track the forecast (${trip.reason}); stay at ${row.stage}` });
    }
    const now = this.deps.clock.now();
    const updated = await this.deps.sql`UPDATE marketing_campaigns SET stage = ${next}, updated_at = ${now} WHERE id = ${id} AND stage = ${row.stage} AND status = 'active' RETURNING id`;
    if (updated.length === 0) throw new DomainError('marketing.wrong_status', { detail: 'the campaign changed while you promoted it; look again' });
    await insertEvent(this.deps.sql, { campaignId: id, kind: 'promoted', detail: { from: row.stage, to: next }, actor: operatorId, at: now });
    this.deps.onChange?.();
    return this.deps.campaigns.get(id);
  }

  /** Issues one voucher per user from an approved voucher campaign; the same key issues nothing more. */
  async issueVouchers(id: string, userIds: readonly string[], issueKey: string): Promise<{ readonly issued: number }> {
    const row = await this.deps.campaigns.get(id);
    const template = toDraft(row.definition).template;
    if (template.kind !== 'voucher') throw new DomainError('marketing.not_voucher', { detail: 'this campaign is not a voucher campaign' });
    if (row.status !== 'active' && row.status !== 'paused') throw new DomainError('marketing.wrong_status', { detail: 'vouchers are issued once the campaign is approved' });
    const now = this.deps.clock.now();
    const expiresAt = new Date(Math.min(now.getTime() + template.validDays * 86_400_000, Date.parse(row.definition.endsAt)));
    const issued = await insertVouchers(
      this.deps.sql,
      [...new Set(userIds)].map((userId) => ({ id: this.deps.ids.next('vch'), campaignId: id, userId, amountMinor: template.amountMinor, minSpendMinor: template.minSpendMinor, issuedAt: now, expiresAt, issueKey })),
    );
    return { issued };
  }

  /** The incident report: every payment the campaign discounted and what it cost, by scene. */
  async report(id: string): Promise<{ readonly campaign: CampaignRow; readonly totalMinor: bigint; readonly count: bigint; readonly byScene: readonly SpendRow[]; readonly payments: Awaited<ReturnType<typeof selectTouched>>['payments']; readonly budgetLeftMinor: bigint }> {
    const campaign = await this.deps.campaigns.get(id);
    const { payments, totals } = await selectTouched(this.deps.sql, id, 1000);
    const left = campaign.budget_account_id === null ? 0n : ((await this.deps.ledger.getAccount(campaign.budget_account_id))?.availableMinor ?? 0n);
    return { campaign, totalMinor: totals.reduce((s, t) => s + t.minor, 0n), count: totals.reduce((s, t) => s + t.count, 0n), byScene: totals, payments, budgetLeftMinor: left };
  }

  /** The console's burn-rate chart: spend per minute and scene over the last hour, with the breaker's line. */
  async burn(id: string): Promise<{ readonly minutes: { minute: Date; scene: string; minor: bigint }[]; readonly breakerLineMinor: bigint; readonly forecastPerMinuteMinor: bigint }> {
    const row = await this.deps.campaigns.get(id);
    const minutes = await selectSpendByMinute(this.deps.sql, id, new Date(this.deps.clock.nowMs() - 3_600_000));
    const expected = this.expectedPerMinute(row);
    return { minutes, forecastPerMinuteMinor: expected, breakerLineMinor: (expected * BigInt(Math.round(this.factor * 10))) / 10n };
  }
}
