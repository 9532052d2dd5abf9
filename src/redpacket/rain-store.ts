import type { ReservedSql, Sql, TransactionSql } from '../kernel/db.ts';
import type { RecordQuery } from '../ledger/index.ts';
import { insertSettledPayments } from '../payments/index.ts';
import type { RainMode } from './rain-model.ts';
import type { Payout } from './store.ts';

/** SQL for the hourly rain: the only file that touches redpacket_rain* tables. */

type Db = Sql | TransactionSql | ReservedSql;

export type RainStatus = 'scheduled' | 'closed' | 'refunded';

export interface RainRow {
  id: string;
  name: string;
  mode: RainMode;
  budget_account_id: string;
  escrow_account_id: string;
  pool_minor: bigint;
  prize_count: number;
  starts_at: Date;
  ends_at: Date;
  stagger_ms: number;
  per_user_wins_max: number;
  per_user_minor_max: bigint;
  fission_shares: number;
  fission_minor: bigint;
  split_sha256: string;
  status: RainStatus;
  created_by: string;
  created_at: Date;
  refund_minor: bigint | null;
  refunded_at: Date | null;
}

export type NewRain = Omit<RainRow, 'status' | 'refund_minor' | 'refunded_at'>;

export async function insertRain(tx: TransactionSql, rain: NewRain, prizes: readonly { readonly amountMinor: bigint; readonly releaseAt: Date }[]): Promise<void> {
  await tx`
    INSERT INTO redpacket_rains (id, name, mode, budget_account_id, escrow_account_id, pool_minor, prize_count,
      starts_at, ends_at, stagger_ms, per_user_wins_max, per_user_minor_max, fission_shares, fission_minor,
      split_sha256, status, created_by, created_at)
    VALUES (${rain.id}, ${rain.name}, ${rain.mode}, ${rain.budget_account_id}, ${rain.escrow_account_id},
      ${rain.pool_minor.toString()}, ${rain.prize_count}, ${rain.starts_at}, ${rain.ends_at}, ${rain.stagger_ms},
      ${rain.per_user_wins_max}, ${rain.per_user_minor_max.toString()}, ${rain.fission_shares},
      ${rain.fission_minor.toString()}, ${rain.split_sha256}, 'scheduled', ${rain.created_by}, ${rain.created_at})`;
  const sliceSize = 20_000;
  for (let start = 0; start < prizes.length; start += sliceSize) {
    const slice = prizes.slice(start, start + sliceSize);
    await tx`
      INSERT INTO redpacket_rain_prizes (rain_id, seq, amount_minor, release_at)
      SELECT ${rain.id}, ${start}::int + ord::int - 1, amount, release_at
      FROM unnest(${slice.map((p) => String(p.amountMinor))}::int8[], ${slice.map((p) => p.releaseAt.toISOString())}::timestamptz[])
        WITH ORDINALITY AS x(amount, release_at, ord)`;
  }
}

export async function selectRain(db: Db, rainId: string): Promise<RainRow | undefined> {
  const rows = await db<RainRow[]>`SELECT * FROM redpacket_rains WHERE id = ${rainId}`;
  return rows[0];
}

/** Rains running now or starting within `aheadMs`, soonest first. */
export async function selectCurrentRains(db: Db, now: Date, aheadMs: number): Promise<RainRow[]> {
  return db<RainRow[]>`
    SELECT * FROM redpacket_rains
    WHERE status = 'scheduled' AND ends_at > ${now} AND starts_at <= ${new Date(now.getTime() + aheadMs)}
    ORDER BY starts_at LIMIT 10`;
}

export async function selectRains(db: Db, limit: number): Promise<RainRow[]> {
  return db<RainRow[]>`SELECT * FROM redpacket_rains ORDER BY starts_at DESC LIMIT ${limit}`;
}

/** A rain's prizes as Redis needs them: the open ones, and each winner's count and sum. */
export async function selectPrizeState(db: Db, rainId: string) {
  const rows = await db<{ seq: number; amount_minor: bigint; release_at: Date; won_by: string | null; refunded_at: Date | null }[]>`
    SELECT seq, amount_minor, release_at, won_by, refunded_at FROM redpacket_rain_prizes WHERE rain_id = ${rainId} ORDER BY seq`;
  const winners = new Map<string, { wins: number; minor: bigint }>();
  for (const row of rows) {
    if (row.won_by === null) continue;
    const so = winners.get(row.won_by) ?? { wins: 0, minor: 0n };
    winners.set(row.won_by, { wins: so.wins + 1, minor: so.minor + row.amount_minor });
  }
  return {
    open: rows.filter((r) => r.won_by === null && r.refunded_at === null).map((r) => ({ seq: r.seq, amountMinor: r.amount_minor, releaseMs: r.release_at.getTime() })),
    winners: [...winners].map(([userId, won]) => ({ userId, ...won })),
  };
}

export interface PrizeWin {
  seq: number;
  amount_minor: bigint;
}

/**
 * One tap on PostgreSQL, for the user's (rain, user) advisory lock holder: the first released
 * prize nobody holds, if the user's caps allow it. Undefined when none is free or the caps stop it.
 */
export async function tapPrize(
  tx: TransactionSql,
  input: { readonly rainId: string; readonly userId: string; readonly now: Date; readonly winsMax: number; readonly minorMax: bigint },
): Promise<{ readonly win: PrizeWin | undefined; readonly capped: boolean }> {
  const { rainId, userId, now } = input;
  await tx`SELECT pg_advisory_xact_lock(hashtext(${rainId}), hashtext(${userId}))`;
  const [mine] = await tx<{ n: number; total: bigint }[]>`
    SELECT count(*)::int AS n, coalesce(sum(amount_minor), 0)::int8 AS total
    FROM redpacket_rain_prizes WHERE rain_id = ${rainId} AND won_by = ${userId}`;
  const won = mine ?? { n: 0, total: 0n };
  if (won.n >= input.winsMax) return { win: undefined, capped: true };
  const rows = await tx<PrizeWin[]>`
    WITH pick AS (
      SELECT seq, amount_minor FROM redpacket_rain_prizes
      WHERE rain_id = ${rainId} AND won_by IS NULL AND refunded_at IS NULL AND release_at <= ${now}
      ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
    )
    UPDATE redpacket_rain_prizes p SET won_by = ${userId}, won_at = ${now}
    FROM pick WHERE p.rain_id = ${rainId} AND p.seq = pick.seq
      AND ${won.total.toString()}::int8 + pick.amount_minor <= ${input.minorMax.toString()}::int8
    RETURNING p.seq, p.amount_minor`;
  return { win: rows[0], capped: false };
}

/** Wins taken on Redis, recorded on their prizes once (an already recorded prize is skipped). */
export async function claimPrizes(db: Db, rainId: string, wins: readonly { readonly seq: number; readonly userId: string; readonly wonAt: Date }[]): Promise<number> {
  if (wins.length === 0) return 0;
  const rows = await db`
    UPDATE redpacket_rain_prizes p SET won_by = x.user_id, won_at = x.won_at
    FROM unnest(${wins.map((w) => w.seq)}::int[], ${wins.map((w) => w.userId)}::text[],
      ${wins.map((w) => w.wonAt.toISOString())}::timestamptz[]) AS x(seq, user_id, won_at)
    WHERE p.rain_id = ${rainId} AND p.seq = x.seq AND p.won_by IS NULL AND p.refunded_at IS NULL
    RETURNING p.seq`;
  return rows.length;
}

export interface UnsettledWin {
  rain_id: string;
  seq: number;
  amount_minor: bigint;
  won_by: string;
  won_at: Date;
  escrow_account_id: string;
  name: string;
  winner_wallet_account_id: string;
}

export async function selectUnsettledWins(db: Db, limit: number): Promise<UnsettledWin[]> {
  return db<UnsettledWin[]>`
    SELECT p.rain_id, p.seq, p.amount_minor, p.won_by, p.won_at, r.escrow_account_id, r.name,
      u.wallet_account_id AS winner_wallet_account_id
    FROM redpacket_rain_prizes p JOIN redpacket_rains r ON r.id = p.rain_id JOIN identity_users u ON u.id = p.won_by
    WHERE p.won_by IS NOT NULL AND p.settled_at IS NULL
    ORDER BY p.won_at LIMIT ${limit}`;
}

/** The ledger batch's record writer for prizes: payment, bill, and the prize marked settled. */
export function recordPrizePayouts(connection: ReservedSql, rows: readonly Payout[]): RecordQuery {
  return insertSettledPayments(
    connection,
    rows.map((row) => row.payment),
    rows.map((row) => row.bill),
    [connection`
      UPDATE redpacket_rain_prizes p SET settled_at = i.created_at FROM inserted i
      WHERE i.kind = 'rain_prize' AND p.rain_id = i.rain_id AND p.seq = split_part(i.request_key, ':', 2)::int
      RETURNING 1`],
  );
}

/** Rains whose window is over and that are not closed yet. */
export async function selectEndedRains(db: Db, now: Date, limit: number): Promise<RainRow[]> {
  return db<RainRow[]>`SELECT * FROM redpacket_rains WHERE status = 'scheduled' AND ends_at <= ${now} ORDER BY ends_at LIMIT ${limit}`;
}

/** Closes a rain's open prizes and records their sum as what goes back; once. */
export async function closeRain(db: Db, rainId: string, now: Date): Promise<RainRow | undefined> {
  const rows = await db<RainRow[]>`
    WITH rain AS (
      SELECT id FROM redpacket_rains WHERE id = ${rainId} AND status = 'scheduled' FOR UPDATE
    ), closed AS (
      UPDATE redpacket_rain_prizes SET refunded_at = ${now}
      WHERE rain_id IN (SELECT id FROM rain) AND won_by IS NULL AND refunded_at IS NULL
      RETURNING amount_minor
    )
    UPDATE redpacket_rains SET status = 'closed', refund_minor = (SELECT coalesce(sum(amount_minor), 0) FROM closed)
    WHERE id IN (SELECT id FROM rain) RETURNING *`;
  return rows[0];
}

export async function selectClosedRains(db: Db, limit: number): Promise<RainRow[]> {
  return db<RainRow[]>`SELECT * FROM redpacket_rains WHERE status = 'closed' ORDER BY ends_at LIMIT ${limit}`;
}

/** A rain the budget could not fund: ended at once, every prize closed, nothing to return. */
export async function markRainUnfunded(db: Sql, rainId: string, now: Date): Promise<void> {
  await db.begin(async (tx) => {
    await tx`UPDATE redpacket_rain_prizes SET refunded_at = ${now} WHERE rain_id = ${rainId}`;
    await tx`UPDATE redpacket_rains SET status = 'refunded', refund_minor = 0, refunded_at = ${now} WHERE id = ${rainId}`;
  });
}

export async function markRainRefunded(db: Db, rainId: string, now: Date): Promise<void> {
  await db`UPDATE redpacket_rains SET status = 'refunded', refunded_at = ${now} WHERE id = ${rainId} AND status = 'closed'`;
}

export interface RainTotals {
  won_count: number;
  won_minor: bigint;
  settled_minor: bigint;
  refunded_prize_minor: bigint;
  prizes_minor: bigint;
}

export async function selectRainTotals(db: Db, rainId: string): Promise<RainTotals> {
  const [row] = await db<RainTotals[]>`
    SELECT count(*) FILTER (WHERE won_by IS NOT NULL)::int AS won_count,
      coalesce(sum(amount_minor) FILTER (WHERE won_by IS NOT NULL), 0)::int8 AS won_minor,
      coalesce(sum(amount_minor) FILTER (WHERE settled_at IS NOT NULL), 0)::int8 AS settled_minor,
      coalesce(sum(amount_minor) FILTER (WHERE refunded_at IS NOT NULL), 0)::int8 AS refunded_prize_minor,
      coalesce(sum(amount_minor), 0)::int8 AS prizes_minor
    FROM redpacket_rain_prizes WHERE rain_id = ${rainId}`;
  if (row === undefined) throw new Error('an aggregate answers one row');
  return row;
}

/** Paid out per bucket of the window (wins by when they were won), for the console's chart. */
export async function selectRainSeries(db: Db, rain: RainRow, buckets: number): Promise<{ bucket: number; won_minor: bigint; won_count: number }[]> {
  const durationMs = rain.ends_at.getTime() - rain.starts_at.getTime();
  return db<{ bucket: number; won_minor: bigint; won_count: number }[]>`
    SELECT least(${buckets - 1}, greatest(0, floor(extract(epoch FROM (won_at - ${rain.starts_at})) * 1000 * ${buckets} / ${durationMs})))::int AS bucket,
      sum(amount_minor)::int8 AS won_minor, count(*)::int AS won_count
    FROM redpacket_rain_prizes WHERE rain_id = ${rain.id} AND won_by IS NOT NULL
    GROUP BY 1 ORDER BY 1`;
}

/** A user's wins in a rain, in order. */
export async function selectMyWins(db: Db, rainId: string, userId: string): Promise<{ seq: number; amount_minor: bigint; won_at: Date; settled_at: Date | null }[]> {
  return db<{ seq: number; amount_minor: bigint; won_at: Date; settled_at: Date | null }[]>`
    SELECT seq, amount_minor, won_at, settled_at FROM redpacket_rain_prizes
    WHERE rain_id = ${rainId} AND won_by = ${userId} ORDER BY seq`;
}
