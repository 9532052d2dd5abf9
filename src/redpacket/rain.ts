import type { Redis } from 'ioredis';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { Passes } from '../kernel/passes.ts';
import type { Random } from '../kernel/random.ts';
import type { Ledger } from '../ledger/index.ts';
import { redPacketPayout } from '../payments/index.ts';
import './errors.ts';
import { splitDigest } from './model.ts';
import { fissionSharesDefault, rainProblem, releaseOffsetMs, splitRain, staggerMsDefault, userStartOffsetMs, type RainMode } from './rain-model.ts';
import { RainPool } from './rain-redis.ts';
import { redisCall } from './redis-pool.ts';
import {
  claimPrizes,
  closeRain,
  insertRain,
  markRainRefunded,
  markRainUnfunded,
  recordPrizePayouts,
  selectClosedRains,
  selectCurrentRains,
  selectEndedRains,
  selectMyWins,
  selectPrizeState,
  selectRain,
  selectRainSeries,
  selectRains,
  selectRainTotals,
  selectUnsettledWins,
  tapPrize,
  type RainRow,
  type UnsettledWin,
} from './rain-store.ts';

/**
 * The hourly rain (整点红包 / 咻一咻). An operator schedules a pool from the campaign budget; it is
 * cut into prizes at once and released evenly over the window, so it cannot be gone in the first
 * second and can never be exceeded (prizes are the pool, and each is won at most once). Users
 * start at staggered instants (a hash of the user id inside a small window). A tap wins the next
 * released prize the user's caps allow, or nothing — and nothing costs no database write: on
 * Redis the tap is one script; on PostgreSQL a process-local count of what it has seen won turns
 * losing taps away before the database. Wins are paid like red packet grabs (settled in batches
 * by the ledger's writer, once per prize); what is left at the end goes back to the budget once.
 */

/** The campaign budget every rain is funded from: operators deposit into it. */
export const campaignBudgetAccountId = 'acct_system_campaign_cny';
export const campaignBudgetCode = 'campaign.budget';

export interface RainsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: Random;
  readonly ledger: Ledger;
  readonly redis?: Redis | undefined;
  readonly log?: (message: string, detail: object) => void;
}

export interface ScheduleInput {
  readonly name: string;
  readonly mode: RainMode;
  readonly poolMinor: bigint;
  readonly prizeCount: number;
  readonly startsAt: Date;
  readonly durationMs: number;
  readonly staggerMs?: number | undefined;
  readonly perUserWinsMax: number;
  readonly perUserMinorMax: bigint;
  readonly fissionShares?: number | undefined;
  readonly fissionMinor?: bigint | undefined;
}

export interface TapOutcome {
  readonly won: boolean;
  readonly amountMinor: bigint;
  readonly prizeSeq: number | null;
  /** The user has won as often as the rain allows. */
  readonly capped: boolean;
}

const settleBatchMax = 2000;
const sweepBatchMax = 20;
/** How far ahead users see an upcoming rain. */
const upcomingAheadMs = 24 * 3600_000;

export class Rains {
  private readonly pool: RainPool | undefined;
  private readonly cache = new Map<string, RainRow>();
  /** PostgreSQL path: prizes this process has seen won, per rain (the losing-tap gate). */
  private readonly seenWon = new Map<string, number>();
  private readonly loaded = new Set<string>();
  private readonly dirty = new Map<string, number>();
  private readonly settler: Passes;

  constructor(private readonly deps: RainsDeps) {
    this.pool = deps.redis === undefined ? undefined : new RainPool(deps.redis);
    this.settler = new Passes(
      () => this.settleWins(),
      (error) => deps.log?.('rain settlement failed; the next pass retries', { error: String(error) }),
    );
  }

  async ensureBudgetAccount(): Promise<void> {
    await this.deps.ledger.createAccount({ id: campaignBudgetAccountId, currency: 'CNY', code: campaignBudgetCode, noOverdraft: true });
  }

  async budgetBalance(): Promise<bigint> {
    return (await this.deps.ledger.getAccount(campaignBudgetAccountId))?.balanceMinor ?? 0n;
  }

  /** Operators fund the budget from the bank (a simulated corporate deposit). */
  async depositBudget(amountMinor: bigint, requestKey: string, fromAccountId: string): Promise<bigint> {
    const result = await this.deps.ledger.transfer({ id: `budget-deposit:${requestKey}`, type: 'posted', debitAccountId: fromAccountId, creditAccountId: campaignBudgetAccountId, amountMinor, currency: 'CNY', kind: 'campaign_deposit' });
    if (result.status === 'failed') throw new DomainError(result.error, { detail: result.detail });
    return (await this.deps.ledger.getAccount(campaignBudgetAccountId))?.balanceMinor ?? 0n;
  }

  // ---- schedule

  /** Schedules a rain: the pool moves from the budget into the rain's escrow, all or nothing. */
  async schedule(operatorId: string, input: ScheduleInput): Promise<RainRow> {
    const now = this.deps.clock.now();
    const fissionMinor = input.fissionMinor ?? 0n;
    // A winner hands a fission packet to up to K friends: K is 5 unless the operator says.
    const fissionShares = input.fissionShares ?? (fissionMinor > 0n ? fissionSharesDefault : 0);
    const problem = rainProblem({ ...input, startsAtMs: input.startsAt.getTime(), nowMs: now.getTime(), fissionShares, fissionMinor });
    if (problem !== undefined) throw new DomainError(problem.code, { detail: problem.detail });
    const id = this.deps.ids.next('rain');
    const escrowAccountId = this.deps.ids.next('acct');
    const amounts = splitRain(input.mode, input.poolMinor, input.prizeCount, this.deps.random);
    const start = input.startsAt.getTime();
    const prizes = amounts.map((amountMinor, seq) => ({ amountMinor, releaseAt: new Date(start + releaseOffsetMs(seq, amounts.length, input.durationMs)) }));
    await this.deps.sql.begin(async (tx) => {
      await this.deps.ledger.createAccount({ id: escrowAccountId, currency: 'CNY', code: 'rain.escrow', ownerId: id, noOverdraft: true }, tx);
      await insertRain(
        tx,
        {
          id,
          name: input.name,
          mode: input.mode,
          budget_account_id: campaignBudgetAccountId,
          escrow_account_id: escrowAccountId,
          pool_minor: input.poolMinor,
          prize_count: input.prizeCount,
          starts_at: input.startsAt,
          ends_at: new Date(start + input.durationMs),
          stagger_ms: input.staggerMs ?? staggerMsDefault,
          per_user_wins_max: input.perUserWinsMax,
          per_user_minor_max: input.perUserMinorMax,
          fission_shares: fissionShares,
          fission_minor: fissionMinor,
          split_sha256: splitDigest(amounts),
          created_by: operatorId,
          created_at: now,
        },
        prizes,
      );
    });
    // Fund after the rows exist; a refusal (budget too small) removes nothing but leaves the rain
    // unfunded, so it is closed at once and answers the ledger's error.
    const funded = await this.deps.ledger.transfer({ id: `rain-fund:${id}`, type: 'posted', debitAccountId: campaignBudgetAccountId, creditAccountId: escrowAccountId, amountMinor: input.poolMinor, currency: 'CNY', kind: 'rain_fund' });
    if (funded.status === 'failed') {
      await markRainUnfunded(this.deps.sql, id, now);
      throw new DomainError(funded.error, { detail: `the campaign budget cannot fund this rain: ${funded.detail}` });
    }
    if (this.pool !== undefined) await this.pool.load(id, prizes.map((p) => ({ amountMinor: p.amountMinor, releaseMs: p.releaseAt.getTime() })));
    const rain = await selectRain(this.deps.sql, id);
    if (rain === undefined) throw new Error('the rain vanished');
    return rain;
  }

  // ---- read

  async get(rainId: string): Promise<RainRow> {
    const cached = this.cache.get(rainId);
    if (cached !== undefined) return cached;
    const rain = await selectRain(this.deps.sql, rainId);
    if (rain === undefined) throw new DomainError('rain.not_found', { detail: `no rain ${rainId}` });
    if (rain.status === 'scheduled') this.cache.set(rainId, rain);
    return rain;
  }

  current(): Promise<RainRow[]> {
    return selectCurrentRains(this.deps.sql, this.deps.clock.now(), upcomingAheadMs);
  }

  list(limit: number): Promise<RainRow[]> {
    return selectRains(this.deps.sql, limit);
  }

  /** When this user may start tapping this rain. */
  userStartsAt(rain: RainRow, userId: string): Date {
    return new Date(rain.starts_at.getTime() + userStartOffsetMs(rain.id, userId, rain.stagger_ms));
  }

  /**
   * A user's wins as PostgreSQL has them: a win on Redis arrives with the settler's next pass,
   * which every win starts. `fresh` syncs the rain's Redis records first — for acting on a win
   * (a fission packet), not for every read of the rain page, where it would take the sync lock.
   */
  async myWins(rainId: string, userId: string, options: { readonly fresh?: boolean } = {}) {
    if (options.fresh === true && this.pool !== undefined) {
      const rain = await this.get(rainId);
      await this.syncRain(rain.id, rain.prize_count);
    }
    return selectMyWins(this.deps.sql, rainId, userId);
  }

  async stats(rainId: string, buckets: number) {
    const rain = await selectRain(this.deps.sql, rainId);
    if (rain === undefined) throw new DomainError('rain.not_found', { detail: `no rain ${rainId}` });
    const [totals, series] = await Promise.all([selectRainTotals(this.deps.sql, rainId), selectRainSeries(this.deps.sql, rain, buckets)]);
    return { rain, totals, series };
  }

  // ---- tap

  async tap(userId: string, rainId: string): Promise<TapOutcome> {
    const rain = await this.get(rainId);
    const now = this.deps.clock.now();
    const startsAt = this.userStartsAt(rain, userId);
    if (now < startsAt) throw new DomainError('rain.not_started', { detail: `your rain starts at ${startsAt.toISOString()}`, startsAt: startsAt.toISOString() });
    if (now >= rain.ends_at || rain.status !== 'scheduled') throw new DomainError('rain.ended', { detail: 'this rain is over' });
    const caps = { wins: rain.per_user_wins_max, minor: rain.per_user_minor_max };
    if (this.pool !== undefined) {
      const pool = this.pool;
      const result = await redisCall(async () => {
        await this.ensureLoaded(rain);
        return pool.tap(rain.id, rain.prize_count, userId, now.getTime(), caps);
      });
      if (result.state !== 'win') return { won: false, amountMinor: 0n, prizeSeq: null, capped: result.state === 'capped' };
      this.dirty.set(rain.id, rain.prize_count);
      this.kick();
      return { won: true, amountMinor: result.amountMinor, prizeSeq: result.seq, capped: false };
    }
    // PostgreSQL: a tap while every released prize is known to be won loses without a query.
    const released = releasedCount(rain, now.getTime());
    if ((this.seenWon.get(rain.id) ?? 0) >= released) return { won: false, amountMinor: 0n, prizeSeq: null, capped: false };
    const result = await this.deps.sql.begin((tx) => tapPrize(tx, { rainId: rain.id, userId, now, winsMax: caps.wins, minorMax: caps.minor }));
    if (result.win === undefined) {
      // Nobody could take one: every released prize is held (unless this user's caps stopped it).
      if (!result.capped) this.seenWon.set(rain.id, Math.max(this.seenWon.get(rain.id) ?? 0, released));
      return { won: false, amountMinor: 0n, prizeSeq: null, capped: result.capped };
    }
    this.seenWon.set(rain.id, (this.seenWon.get(rain.id) ?? 0) + 1);
    this.kick();
    return { won: true, amountMinor: result.win.amount_minor, prizeSeq: result.win.seq, capped: false };
  }

  private async ensureLoaded(rain: RainRow): Promise<void> {
    if (this.pool === undefined || this.loaded.has(rain.id)) return;
    if (!(await this.pool.isLoaded(rain.id, rain.prize_count))) {
      const state = await selectPrizeState(this.deps.sql, rain.id);
      await this.pool.loadState(rain.id, rain.prize_count, state.open, state.winners);
    }
    this.loaded.add(rain.id);
  }

  // ---- settlement

  kick(): void {
    this.settler.kick();
  }

  /** Settles everything won so far, after any pass in flight. */
  settleNow(): Promise<number> {
    return this.settler.runNow();
  }

  private async syncRain(rainId: string, prizeCount: number): Promise<void> {
    await this.pool?.drain(rainId, prizeCount, async (records) => {
      await claimPrizes(this.deps.sql, rainId, records.map((r) => ({ seq: r.seq, userId: r.userId, wonAt: new Date(r.wonAtMs) })));
    });
  }

  /** Pays one batch of won prizes through the ledger's batching writer; answers how many. */
  async settleWins(limit = settleBatchMax): Promise<number> {
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const [rainId, prizeCount] of dirty) await this.syncRain(rainId, prizeCount);
    const rows = await selectUnsettledWins(this.deps.sql, limit);
    if (rows.length === 0) return 0;
    const now = this.deps.clock.now();
    const paid = await Promise.all(rows.map((row) => this.payPrize(row, now)));
    return paid.filter(Boolean).length;
  }

  private async payPrize(row: UnsettledWin, now: Date): Promise<boolean> {
    const transferId = `rain:${row.rain_id}:${String(row.seq)}`;
    const payout = redPacketPayout({
      id: this.deps.ids.next('pay'),
      kind: 'rain_prize',
      userId: row.won_by,
      packetId: row.rain_id,
      requestKey: `${row.rain_id}:${String(row.seq)}`,
      ledgerTransferId: transferId,
      escrowAccountId: row.escrow_account_id,
      walletAccountId: row.winner_wallet_account_id,
      amountMinor: row.amount_minor,
      memo: row.name,
      now,
      counterparty: { userId: null, name: row.name, mobileMasked: null },
    });
    const { result } = await this.deps.ledger.transferWithRecord(
      { id: transferId, type: 'posted', debitAccountId: row.escrow_account_id, creditAccountId: row.winner_wallet_account_id, amountMinor: row.amount_minor, currency: 'CNY', kind: 'rain_prize' },
      { write: recordPrizePayouts, id: payout.payment.id, row: payout },
    );
    if (result.status === 'failed') this.deps.log?.('rain prize not paid', { transferId, error: result.error, detail: result.detail });
    return result.status !== 'failed';
  }

  // ---- end of the window

  /** Closes ended rains (Redis first, then their open prizes) and pays the rest back to the budget. */
  async sweepEnded(): Promise<number> {
    const now = this.deps.clock.now();
    for (const rain of await selectEndedRains(this.deps.sql, now, sweepBatchMax)) await this.closeOne(rain, now);
    let refunded = 0;
    for (const rain of await selectClosedRains(this.deps.sql, sweepBatchMax)) {
      const refund = rain.refund_minor ?? 0n;
      if (refund > 0n) {
        const result = await this.deps.ledger.transfer({ id: `rain-refund:${rain.id}`, type: 'posted', debitAccountId: rain.escrow_account_id, creditAccountId: rain.budget_account_id, amountMinor: refund, currency: 'CNY', kind: 'rain_refund' });
        if (result.status === 'failed') {
          this.deps.log?.('rain refund not paid', { rainId: rain.id, error: result.error });
          continue;
        }
      }
      await markRainRefunded(this.deps.sql, rain.id, now);
      refunded++;
    }
    return refunded;
  }

  /** One rain's close: no more Redis wins, every Redis win on its prize, then the open prizes closed. */
  async closeOne(rain: RainRow, now: Date): Promise<void> {
    if (this.pool !== undefined) {
      await this.pool.close(rain.id, rain.prize_count);
      await this.syncRain(rain.id, rain.prize_count);
    }
    this.cache.delete(rain.id);
    await closeRain(this.deps.sql, rain.id, now);
  }

  /** escrow + paid out + returned = pool; prizes sum to the pool; never more won than prizes; Redis agrees. */
  async audit(rainId: string) {
    const rain = await selectRain(this.deps.sql, rainId);
    if (rain === undefined) throw new DomainError('rain.not_found', { detail: `no rain ${rainId}` });
    await this.syncRain(rainId, rain.prize_count);
    const [totals, escrow] = await Promise.all([selectRainTotals(this.deps.sql, rainId), this.deps.ledger.getAccount(rain.escrow_account_id)]);
    const escrowMinor = escrow?.balanceMinor ?? 0n;
    const returned = rain.status === 'refunded' ? (rain.refund_minor ?? 0n) : 0n;
    const problems: string[] = [];
    if (totals.prizes_minor !== rain.pool_minor) problems.push(`prizes sum to ${String(totals.prizes_minor)}, not ${String(rain.pool_minor)}`);
    if (totals.won_minor > rain.pool_minor) problems.push('more won than the pool');
    if (escrowMinor + totals.settled_minor + returned !== rain.pool_minor) problems.push(`escrow ${String(escrowMinor)} + paid ${String(totals.settled_minor)} + returned ${String(returned)} ≠ ${String(rain.pool_minor)}`);
    if (this.pool !== undefined) {
      const inRedis = await this.pool.wonTotals(rainId, rain.prize_count);
      if (inRedis.count !== totals.won_count || inRedis.amountMinor !== totals.won_minor) problems.push(`Redis has ${String(inRedis.count)} wins of ${String(inRedis.amountMinor)}; PostgreSQL ${String(totals.won_count)} of ${String(totals.won_minor)}`);
    }
    return { ok: problems.length === 0, problems, escrowMinor, totals };
  }

  async close(): Promise<void> {
    await this.settler.close();
  }
}

/** How many prizes are released at `nowMs`: prize s is released at start + floor(s × D / N). */
export function releasedCount(rain: RainRow, nowMs: number): number {
  const elapsed = nowMs - rain.starts_at.getTime();
  if (elapsed < 0) return 0;
  const durationMs = rain.ends_at.getTime() - rain.starts_at.getTime();
  return Math.min(rain.prize_count, Math.ceil(((elapsed + 1) * rain.prize_count) / durationMs));
}
