import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import './errors.ts';
import { computeScore, type Factor } from './score.ts';

/**
 * Scores kept per user and recomputed when stale: after a relevant event (a newer payment than
 * the computation saw, or the real-name level changing) on the next read, and daily by the
 * maintenance pass (`recomputeDue`). The inputs are the user's own rows only.
 */
export interface ScoreRow {
  user_id: string;
  score: number;
  factors: readonly Factor[];
  computed_at: Date;
  seen_payment_at: Date | null;
  seen_payments: number;
}

const dayMs = 86_400_000;

export class CreditScores {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock }) {}

  /** The user's score, recomputed first if anything it depends on changed or it is a day old. */
  async get(userId: string): Promise<ScoreRow> {
    // The user, the stored score (if any) and what would make it stale, in one read.
    const [state] = await this.deps.sql<(Partial<ScoreRow> & { verified: boolean; payments: number; identity_points: number | null })[]>`
      SELECT u.real_name_verified_at IS NOT NULL AS verified,
        (SELECT count(*)::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded') AS payments,
        s.*, (s.factors -> 0 ->> 'points')::int AS identity_points
      FROM identity_users u LEFT JOIN credit_scores s ON s.user_id = u.id WHERE u.id = ${userId}`;
    if (state === undefined) throw new DomainError('credit.user_not_found', { detail: `no user ${userId}` });
    const { user_id: scored, score, factors, computed_at: computedAt, seen_payment_at: seenAt, seen_payments: seen } = state;
    const fresh =
      scored != null && score != null && factors != null && computedAt != null && seen != null &&
      this.deps.clock.nowMs() - computedAt.getTime() < dayMs &&
      // Any payment since (counted, so one in the same millisecond counts too) makes it stale.
      seen === state.payments &&
      (state.identity_points === 100) === state.verified;
    return fresh ? { user_id: scored, score, factors, computed_at: computedAt, seen_payment_at: seenAt ?? null, seen_payments: seen } : this.recompute(userId);
  }

  async recompute(userId: string): Promise<ScoreRow> {
    const now = this.deps.clock.now();
    const since = new Date(now.getTime() - 365 * dayMs);
    const [inputs] = await this.deps.sql<{ created_at: Date; verified: boolean; payments: number; months: number; shop: number; refunded: number; charges: number; last_payment: Date | null; all_payments: number }[]>`
      SELECT u.created_at, u.real_name_verified_at IS NOT NULL AS verified,
        (SELECT count(*)::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded' AND p.kind IN ('p2p', 'shop', 'redpacket') AND p.created_at >= ${since}) AS payments,
        (SELECT count(DISTINCT date_trunc('month', p.created_at))::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded' AND p.kind IN ('p2p', 'shop', 'redpacket') AND p.created_at >= ${since}) AS months,
        (SELECT count(*)::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded' AND p.kind = 'shop' AND p.created_at >= ${since}) AS shop,
        (SELECT count(*)::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded' AND p.kind = 'shop' AND p.created_at >= ${since}
           AND EXISTS (SELECT 1 FROM payments r WHERE r.refund_of_payment_id = p.id AND r.status = 'succeeded')) AS refunded,
        (SELECT count(*)::int FROM credit_deposits d WHERE d.user_id = u.id AND d.status = 'charged' AND d.created_at >= ${since}) AS charges,
        (SELECT max(created_at) FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded') AS last_payment,
        (SELECT count(*)::int FROM payments p WHERE p.user_id = u.id AND p.status = 'succeeded') AS all_payments
      FROM identity_users u WHERE u.id = ${userId}`;
    if (inputs === undefined) throw new DomainError('credit.user_not_found', { detail: `no user ${userId}` });
    const { score, factors } = computeScore({
      realNameVerified: inputs.verified,
      accountAgeDays: Math.max(0, Math.floor((now.getTime() - inputs.created_at.getTime()) / dayMs)),
      paymentsLast12m: inputs.payments,
      activeMonthsLast12: Math.min(12, inputs.months),
      shopPaymentsLast12m: inputs.shop,
      refundedLast12m: inputs.refunded,
      depositChargesLast12m: inputs.charges,
    });
    const [row] = await this.deps.sql<ScoreRow[]>`
      INSERT INTO credit_scores (user_id, score, factors, computed_at, seen_payment_at, seen_payments)
      VALUES (${userId}, ${score}, ${this.deps.sql.json(factors as never)}, ${now}, ${inputs.last_payment}, ${inputs.all_payments})
      ON CONFLICT (user_id) DO UPDATE SET score = EXCLUDED.score, factors = EXCLUDED.factors, computed_at = EXCLUDED.computed_at,
        seen_payment_at = EXCLUDED.seen_payment_at, seen_payments = EXCLUDED.seen_payments
      RETURNING *`;
    if (row === undefined) throw new Error('the score was not stored');
    return row;
  }

  /** The daily pass: scores a day old are recomputed, a batch at a time. Answers how many. */
  async recomputeDue(limit = 200): Promise<number> {
    const due = await this.deps.sql<{ user_id: string }[]>`
      SELECT user_id FROM credit_scores WHERE computed_at < ${new Date(this.deps.clock.nowMs() - dayMs)} ORDER BY computed_at LIMIT ${limit}`;
    for (const { user_id: userId } of due) await this.recompute(userId);
    return due.length;
  }
}
