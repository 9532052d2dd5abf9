import type { Sql } from '../kernel/db.ts';
import type { PerUserLimits } from './model.ts';

/**
 * SQL for the marketing engine's money side: per-user usage reserved atomically, vouchers used
 * once, and spend read back from the payments a campaign discounted.
 */

const least = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Reserves up to `wantMinor` of a user's limits in one statement (never read-then-write): the
 * count limits must have room, and the amount is cut to what the amount limits leave (the old
 * row's values are what every SET expression reads). Answers the amount reserved, or 0n.
 */
export async function reserveUsage(sql: Sql, input: { readonly campaignId: string; readonly userId: string; readonly day: string; readonly wantMinor: bigint; readonly limits: PerUserLimits }): Promise<bigint> {
  const { limits } = input;
  const first = least(input.wantMinor, least(limits.minorPerDay, limits.minorPerCampaign));
  if (first <= 0n) return 0n;
  const sameDay = sql`u.day = EXCLUDED.day`;
  const countToday = sql`(CASE WHEN ${sameDay} THEN u.count_today ELSE 0 END)`;
  const minorToday = sql`(CASE WHEN ${sameDay} THEN u.minor_today ELSE 0 END)`;
  const cut = sql`least(${input.wantMinor.toString()}::int8, ${limits.minorPerDay.toString()}::int8 - ${minorToday}, ${limits.minorPerCampaign.toString()}::int8 - u.minor_total)`;
  const rows = await sql<{ last_minor: bigint }[]>`
    INSERT INTO marketing_usage AS u (campaign_id, user_id, day, count_today, minor_today, count_total, minor_total, last_minor)
    VALUES (${input.campaignId}, ${input.userId}, ${input.day}::date, 1, ${first.toString()}, 1, ${first.toString()}, ${first.toString()})
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET
      day = EXCLUDED.day,
      count_today = ${countToday} + 1,
      minor_today = ${minorToday} + ${cut},
      count_total = u.count_total + 1,
      minor_total = u.minor_total + ${cut},
      last_minor = ${cut}
    WHERE ${countToday} < ${limits.countPerDay} AND u.count_total < ${limits.countPerCampaign} AND ${cut} > 0
    RETURNING last_minor`;
  return rows[0]?.last_minor ?? 0n;
}

/** Gives a reservation back (the payment did not use it). Today's counters only if it is still that day. */
export async function releaseUsage(sql: Sql, input: { readonly campaignId: string; readonly userId: string; readonly day: string; readonly minor: bigint }): Promise<void> {
  await sql`
    UPDATE marketing_usage SET
      count_total = greatest(count_total - 1, 0),
      minor_total = greatest(minor_total - ${input.minor.toString()}::int8, 0),
      count_today = CASE WHEN day = ${input.day}::date THEN greatest(count_today - 1, 0) ELSE count_today END,
      minor_today = CASE WHEN day = ${input.day}::date THEN greatest(minor_today - ${input.minor.toString()}::int8, 0) ELSE minor_today END
    WHERE campaign_id = ${input.campaignId} AND user_id = ${input.userId}`;
}

export interface UsageRow {
  campaign_id: string;
  day: string;
  count_today: number;
  minor_today: bigint;
  count_total: number;
  minor_total: bigint;
}

export function selectUsage(sql: Sql, userId: string, campaignIds: readonly string[]): Promise<UsageRow[]> {
  return sql<UsageRow[]>`
    SELECT campaign_id, to_char(day, 'YYYY-MM-DD') AS day, count_today, minor_today, count_total, minor_total
    FROM marketing_usage WHERE user_id = ${userId} AND campaign_id = ANY(${campaignIds as string[]}::text[])`;
}

// ---- vouchers

export interface VoucherRow {
  id: string;
  campaign_id: string;
  user_id: string;
  amount_minor: bigint;
  min_spend_minor: bigint;
  status: 'issued' | 'used';
  used_by_key: string | null;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** A user's vouchers that can still be used now, from live campaigns. */
export function selectUsableVouchers(sql: Sql, userId: string, campaignIds: readonly string[], now: Date): Promise<VoucherRow[]> {
  return sql<VoucherRow[]>`
    SELECT * FROM marketing_vouchers
    WHERE user_id = ${userId} AND status = 'issued' AND expires_at > ${now} AND campaign_id = ANY(${campaignIds as string[]}::text[])
    ORDER BY amount_minor DESC, id LIMIT 20`;
}

export function selectVouchers(sql: Sql, userId: string): Promise<VoucherRow[]> {
  return sql<VoucherRow[]>`SELECT * FROM marketing_vouchers WHERE user_id = ${userId} ORDER BY issued_at DESC, id LIMIT 100`;
}

/**
 * Takes a voucher for one request: atomically from issued to used. A retry of the same request
 * (its key) finds it already taken by itself.
 */
export async function takeVoucher(sql: Sql, input: { readonly voucherId: string; readonly userId: string; readonly requestKey: string; readonly now: Date }): Promise<boolean> {
  const rows = await sql`
    UPDATE marketing_vouchers SET status = 'used', used_by_key = ${input.requestKey}, used_at = ${input.now}
    WHERE id = ${input.voucherId} AND user_id = ${input.userId}
      AND ((status = 'issued' AND expires_at > ${input.now}) OR (status = 'used' AND used_by_key = ${input.requestKey}))
    RETURNING id`;
  return rows.length === 1;
}

export async function returnVoucher(sql: Sql, voucherId: string, requestKey: string): Promise<void> {
  await sql`UPDATE marketing_vouchers SET status = 'issued', used_by_key = NULL, used_at = NULL WHERE id = ${voucherId} AND used_by_key = ${requestKey}`;
}

/** Issues one voucher to each user; the same issue key issues nothing more. Answers how many were new. */
export async function insertVouchers(sql: Sql, rows: readonly { readonly id: string; readonly campaignId: string; readonly userId: string; readonly amountMinor: bigint; readonly minSpendMinor: bigint; readonly issuedAt: Date; readonly expiresAt: Date; readonly issueKey: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = <T>(pick: (row: (typeof rows)[number]) => T): T[] => rows.map(pick);
  const inserted = await sql`
    INSERT INTO marketing_vouchers (id, campaign_id, user_id, amount_minor, min_spend_minor, status, issued_at, expires_at, issue_key)
    SELECT id, campaign_id, user_id, amount_minor, min_spend_minor, 'issued', issued_at, expires_at, issue_key
    FROM unnest(${r((x) => x.id)}::text[], ${r((x) => x.campaignId)}::text[], ${r((x) => x.userId)}::text[],
      ${r((x) => x.amountMinor.toString())}::int8[], ${r((x) => x.minSpendMinor.toString())}::int8[],
      ${r((x) => x.issuedAt.toISOString())}::timestamptz[], ${r((x) => x.expiresAt.toISOString())}::timestamptz[], ${r((x) => x.issueKey)}::text[])
      AS x(id, campaign_id, user_id, amount_minor, min_spend_minor, issued_at, expires_at, issue_key)
    ON CONFLICT DO NOTHING RETURNING id`;
  return inserted.length;
}

// ---- spend

export interface SpendRow {
  campaign_id: string;
  scene: string;
  minor: bigint;
  count: bigint;
}

/** What each campaign's discounts cost since `since`, by scene (succeeded payments only). */
export function selectSpendSince(sql: Sql, campaignIds: readonly string[], since: Date): Promise<SpendRow[]> {
  return sql<SpendRow[]>`
    SELECT campaign_id, scene, sum(CASE WHEN kind = 'refund' THEN -discount_minor ELSE discount_minor END)::int8 AS minor, count(*) FILTER (WHERE kind <> 'refund')::int8 AS count
    FROM payments
    WHERE campaign_id = ANY(${campaignIds as string[]}::text[]) AND created_at >= ${since} AND status = 'succeeded'
    GROUP BY campaign_id, scene`;
}

/** Spend per minute and scene over a window (the console's burn-rate chart). */
export function selectSpendByMinute(sql: Sql, campaignId: string, since: Date): Promise<{ minute: Date; scene: string; minor: bigint }[]> {
  return sql<{ minute: Date; scene: string; minor: bigint }[]>`
    SELECT date_trunc('minute', created_at) AS minute, scene, sum(CASE WHEN kind = 'refund' THEN -discount_minor ELSE discount_minor END)::int8 AS minor
    FROM payments WHERE campaign_id = ${campaignId} AND created_at >= ${since} AND status = 'succeeded'
    GROUP BY 1, 2 ORDER BY 1`;
}

export interface TouchedPayment {
  id: string;
  kind: string;
  scene: string;
  user_id: string;
  amount_minor: bigint;
  discount_minor: bigint;
  created_at: Date;
}

/** The incident report: every payment a campaign discounted (newest first, up to `limit`), and the totals. */
export async function selectTouched(sql: Sql, campaignId: string, limit: number): Promise<{ payments: TouchedPayment[]; totals: SpendRow[] }> {
  const [payments, totals] = await Promise.all([
    sql<TouchedPayment[]>`
      SELECT id, kind, scene, user_id, amount_minor, discount_minor, created_at FROM payments
      WHERE campaign_id = ${campaignId} AND status = 'succeeded' ORDER BY created_at DESC, id LIMIT ${limit}`,
    sql<SpendRow[]>`
      SELECT campaign_id, scene, sum(CASE WHEN kind = 'refund' THEN -discount_minor ELSE discount_minor END)::int8 AS minor, count(*) FILTER (WHERE kind <> 'refund')::int8 AS count FROM payments
      WHERE campaign_id = ${campaignId} AND status = 'succeeded' GROUP BY campaign_id, scene ORDER BY scene`,
  ]);
  return { payments, totals };
}

// ---- events

export async function insertEvent(sql: Sql, event: { readonly campaignId: string | null; readonly kind: string; readonly detail: object; readonly actor: string; readonly at: Date }): Promise<void> {
  await sql`INSERT INTO marketing_events (campaign_id, kind, detail, actor, created_at) VALUES (${event.campaignId}, ${event.kind}, ${sql.json(event.detail as never)}, ${event.actor}, ${event.at})`;
}

export function selectEvents(sql: Sql, campaignId: string | null, limit: number): Promise<{ id: string; campaign_id: string | null; kind: string; detail: unknown; actor: string; created_at: Date }[]> {
  return sql`
    SELECT id::text, campaign_id, kind, detail, actor, created_at FROM marketing_events
    ${campaignId === null ? sql`` : sql`WHERE campaign_id = ${campaignId}`}
    ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
}
