import type { Sql } from '../kernel/db.ts';
import { shanghaiDay } from '../payments/model.ts';
import { idTimeMs } from '../kernel/ids.ts';
import type { Forecast } from './campaigns.ts';
import { allowedByLimits, discountFor, maximumExposure, type CampaignDraft, type Scene } from './model.ts';

/**
 * Guardrail 2, the dry run: the campaign replayed over real payments (the last 24 hours) or a
 * stated sample, as if fully rolled out — scenes, segment, per-user limits and the budget
 * applied in order — giving the expected spend per minute, its peak, the maximum exposure and the
 * scene mix. The breaker and rollout promotion compare live spend with this forecast.
 */
export interface ReplayPayment {
  readonly scene: Scene;
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly atMs: number;
}

export function replay(draft: CampaignDraft, payments: readonly ReplayPayment[], windowMinutes: number, source: Forecast['source'], version: number, nowMs: number): Forecast {
  const scenes = new Set(draft.scenes.map((s) => s.scene));
  const usage = new Map<string, { day: string; countToday: number; minorToday: bigint; countTotal: number; minorTotal: bigint }>();
  const perMinute = new Map<number, bigint>();
  const mix: Record<string, { count: number; minor: bigint }> = {};
  let left = draft.budget?.amountMinor ?? 0n;
  let total = 0n;
  let discounted = 0;
  for (const payment of payments) {
    if (!scenes.has(payment.scene) || left <= 0n) continue;
    if (draft.segment.kind === 'list' && !draft.segment.userIds.includes(payment.userId)) continue;
    if (draft.segment.kind === 'new_users' && payment.atMs - idTimeMs(payment.userId) > draft.segment.withinDays * 86_400_000) continue;
    const day = shanghaiDay(payment.atMs);
    const seen = usage.get(payment.userId);
    const used = seen === undefined ? { day, countToday: 0, minorToday: 0n, countTotal: 0, minorTotal: 0n } : seen.day === day ? seen : { ...seen, day, countToday: 0, minorToday: 0n };
    let off = allowedByLimits(discountFor(draft.template, payment.amountMinor, 'expected'), draft.perUser, used);
    if (off > left) off = left;
    if (off <= 0n) continue;
    usage.set(payment.userId, { day, countToday: used.countToday + 1, minorToday: used.minorToday + off, countTotal: used.countTotal + 1, minorTotal: used.minorTotal + off });
    left -= off;
    total += off;
    discounted += 1;
    const minute = Math.floor(payment.atMs / 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0n) + off);
    const slot = (mix[payment.scene] ??= { count: 0, minor: 0n });
    slot.count += 1;
    slot.minor += off;
  }
  let peak = 0n;
  for (const value of perMinute.values()) if (value > peak) peak = value;
  const minutes = BigInt(Math.max(1, windowMinutes));
  return {
    version,
    perMinuteMinor: ((total + minutes - 1n) / minutes).toString(),
    peakPerMinuteMinor: peak.toString(),
    totalMinor: total.toString(),
    scenes: Object.fromEntries(Object.entries(mix).map(([scene, v]) => [scene, { count: v.count, minor: v.minor.toString() }])),
    paymentsConsidered: payments.length,
    paymentsDiscounted: discounted,
    windowMinutes,
    source,
    at: new Date(nowMs).toISOString(),
    maximumExposureMinor: maximumExposure(draft).budgetMinor.toString(),
  };
}

const replayRowsMax = 500_000;

/** The last 24 hours of succeeded payments a campaign could touch, oldest first, priced before any discount. */
export async function lastDayPayments(sql: Sql, nowMs: number): Promise<ReplayPayment[]> {
  const rows = await sql<{ kind: string; scene: string | null; user_id: string; gross: bigint; created_at: Date; charge: boolean }[]>`
    SELECT kind, scene, user_id, amount_minor + coalesce(discount_minor, 0) AS gross, created_at, request_key LIKE 'charge:%' AS charge
    FROM payments
    WHERE status = 'succeeded' AND kind IN ('shop', 'p2p', 'topup') AND created_at >= ${new Date(nowMs - 86_400_000)} AND created_at < ${new Date(nowMs)}
    ORDER BY created_at LIMIT ${replayRowsMax}`;
  return rows.map((row) => ({
    scene: (row.scene ?? (row.kind === 'p2p' ? 'p2p_transfer' : row.kind === 'topup' ? 'topup' : row.charge ? 'payment_code' : 'shop_qr')) as Scene,
    userId: row.user_id,
    amountMinor: row.gross,
    atMs: row.created_at.getTime(),
  }));
}
