import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { Consent } from './consent.ts';
import './errors.ts';
import type { CreditScores } from './scores.ts';

/**
 * The annual bill (年度账单): a user's year from their own bills (Asia/Shanghai calendar), private
 * by default. A share card gets a public link only under a live `annual_bill.publish` grant, shows
 * summary figures only, and carries the credit score only under a separate live
 * `annual_bill.publish_score` grant. Both are checked on every view, so revoking kills the link
 * (or drops the score) at once; every view is logged as a read of the user's data.
 */
export interface AnnualBill {
  readonly year: number;
  readonly spentMinor: bigint;
  readonly receivedMinor: bigint;
  readonly byCategory: readonly { readonly kind: string; readonly minor: bigint; readonly count: number }[];
  readonly byMonth: readonly { readonly month: number; readonly spentMinor: bigint; readonly receivedMinor: bigint }[];
  readonly topShops: readonly { readonly name: string; readonly minor: bigint; readonly count: number }[];
  readonly redPackets: { readonly sent: number; readonly received: number };
  /** Figures of the features still to come (the forest, wealth): null until they exist. */
  readonly forest: null;
  readonly wealth: null;
}

const shanghaiOffsetMs = 8 * 3_600_000;
const yearStart = (year: number): Date => new Date(Date.UTC(year, 0, 1) - shanghaiOffsetMs);

export class AnnualBills {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly consent: Consent; readonly scores: CreditScores; readonly publicBaseUrl?: string }) {}

  private checkYear(year: number): void {
    const current = new Date(this.deps.clock.nowMs() + shanghaiOffsetMs).getUTCFullYear();
    if (!Number.isInteger(year) || year < 2000 || year > current) throw new DomainError('credit.year_invalid', { detail: `a year from 2000 to ${String(current)}` });
  }

  async compute(userId: string, year: number): Promise<AnnualBill> {
    this.checkYear(year);
    const from = yearStart(year);
    const to = yearStart(year + 1);
    const sql = this.deps.sql;
    const visible = sql`b.user_id = ${userId} AND p.status = 'succeeded' AND b.created_at >= ${from} AND b.created_at < ${to}`;
    const [categories, months, shops, packets] = await Promise.all([
      sql<{ kind: string; direction: string; minor: bigint; count: number }[]>`
        SELECT b.kind, b.direction, sum(b.amount_minor)::int8 AS minor, count(*)::int AS count
        FROM payments_bills b JOIN payments p ON p.id = b.payment_id WHERE ${visible} GROUP BY 1, 2`,
      sql<{ month: number; spent: bigint; received: bigint }[]>`
        SELECT extract(month FROM b.created_at AT TIME ZONE 'Asia/Shanghai')::int AS month,
          coalesce(sum(b.amount_minor) FILTER (WHERE b.direction = 'expense'), 0)::int8 AS spent,
          coalesce(sum(b.amount_minor) FILTER (WHERE b.direction = 'income'), 0)::int8 AS received
        FROM payments_bills b JOIN payments p ON p.id = b.payment_id WHERE ${visible} GROUP BY 1 ORDER BY 1`,
      sql<{ name: string; minor: bigint; count: number }[]>`
        SELECT b.counterparty_name AS name, sum(b.amount_minor)::int8 AS minor, count(*)::int AS count
        FROM payments_bills b JOIN payments p ON p.id = b.payment_id WHERE ${visible} AND b.kind = 'shop' AND b.direction = 'expense'
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5`,
      sql<{ sent: number; received: number }[]>`
        SELECT count(*) FILTER (WHERE b.kind = 'redpacket')::int AS sent, count(*) FILTER (WHERE b.kind IN ('redpacket_grab', 'rain_prize'))::int AS received
        FROM payments_bills b JOIN payments p ON p.id = b.payment_id WHERE ${visible}`,
    ]);
    const byMonth = Array.from({ length: 12 }, (_, i) => {
      const m = months.find((row) => row.month === i + 1);
      return { month: i + 1, spentMinor: m?.spent ?? 0n, receivedMinor: m?.received ?? 0n };
    });
    const sum = (direction: string): bigint => categories.filter((c) => c.direction === direction).reduce((s, c) => s + c.minor, 0n);
    return {
      year,
      spentMinor: sum('expense'),
      receivedMinor: sum('income'),
      byCategory: categories.filter((c) => c.direction === 'expense').map((c) => ({ kind: c.kind, minor: c.minor, count: c.count })).sort((a, b) => (a.minor > b.minor ? -1 : 1)),
      byMonth,
      topShops: shops,
      redPackets: packets[0] ?? { sent: 0, received: 0 },
      forest: null,
      wealth: null,
    };
  }

  /** A public link to the year's share card; needs the live publish grant (and the score grant to show the score). */
  async share(userId: string, year: number, includeScore: boolean): Promise<{ readonly token: string; readonly includesScore: boolean }> {
    this.checkYear(year);
    const grant = await this.deps.consent.liveGrant(userId, 'annual_bill.publish', null);
    if (grant === undefined) throw new DomainError('credit.consent_required', { detail: 'publishing needs your annual_bill.publish grant: read its text and agree first' });
    const scoreGrant = includeScore ? await this.deps.consent.liveGrant(userId, 'annual_bill.publish_score', null) : undefined;
    if (includeScore && scoreGrant === undefined) throw new DomainError('credit.consent_required', { detail: 'showing your score needs the separate annual_bill.publish_score grant' });
    const token = randomBytes(24).toString('base64url');
    await this.deps.sql`
      INSERT INTO annual_bill_shares (token_sha256, user_id, year, grant_id, score_grant_id, created_at)
      VALUES (${sha(token)}, ${userId}, ${year}, ${grant.id}, ${scoreGrant?.id ?? null}, ${this.deps.clock.now()})`;
    return { token, includesScore: scoreGrant !== undefined };
  }

  /**
   * The public share card behind a token: only while its publish grant is live (else 404, as if
   * it never existed); the score only while its own grant is live too. Each view is logged.
   */
  async card(token: string): Promise<{ readonly year: number; readonly displayName: string; readonly spentMinor: bigint; readonly receivedMinor: bigint; readonly categoryShares: readonly { readonly kind: string; readonly percent: number }[]; readonly redPackets: { readonly sent: number; readonly received: number }; readonly score: number | null }> {
    const [share] = await this.deps.sql<{ user_id: string; year: number; grant_id: string; score_grant_id: string | null; display_name: string }[]>`
      SELECT s.user_id, s.year, s.grant_id, s.score_grant_id, u.display_name FROM annual_bill_shares s JOIN identity_users u ON u.id = s.user_id
      WHERE s.token_sha256 = ${sha(token)}`;
    if (share === undefined) throw new DomainError('credit.share_not_found');
    const viewer = { kind: 'public' as const, id: 'share-link', name: 'annual bill share link' };
    const live = await this.deps.consent.liveGrant(share.user_id, 'annual_bill.publish', null);
    if (live?.id !== share.grant_id) {
      await this.deps.consent.log(share.user_id, viewer, 'annual_bill.publish', null, `annual bill ${String(share.year)} share card`, 'refused', 'the publish grant behind this link was revoked or expired');
      throw new DomainError('credit.share_not_found', { detail: 'this link was revoked' });
    }
    const scoreLive = share.score_grant_id === null ? undefined : await this.deps.consent.liveGrant(share.user_id, 'annual_bill.publish_score', null);
    const withScore = scoreLive !== undefined && scoreLive.id === share.score_grant_id;
    await this.deps.consent.log(share.user_id, viewer, 'annual_bill.publish', share.grant_id, `annual bill ${String(share.year)} share card`, 'allowed', null);
    if (withScore) await this.deps.consent.log(share.user_id, viewer, 'annual_bill.publish_score', scoreLive.id, 'credit score on the share card', 'allowed', null);
    const bill = await this.compute(share.user_id, share.year);
    const spent = bill.spentMinor === 0n ? 1n : bill.spentMinor;
    return {
      year: share.year,
      // The first character only: a share card is public.
      displayName: `${share.display_name.slice(0, 1)}**`,
      spentMinor: bill.spentMinor,
      receivedMinor: bill.receivedMinor,
      categoryShares: bill.byCategory.map((c) => ({ kind: c.kind, percent: Number((c.minor * 1000n) / spent) / 10 })),
      redPackets: bill.redPackets,
      score: withScore ? (await this.deps.scores.get(share.user_id)).score : null,
    };
  }
}

const sha = (token: string): string => createHash('sha256').update(token).digest('hex');
