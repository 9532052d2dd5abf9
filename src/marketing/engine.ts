import { performance } from 'node:perf_hooks';
import type { AuthUser } from '../identity/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { idTimeMs } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';
import type { Ledger } from '../ledger/index.ts';
import type { AppliedDiscount, DiscountEngine, DiscountQuote, DiscountRequest } from '../payments/discounts.ts';
import { shanghaiDay } from '../payments/model.ts';
import { toDraft, type CampaignRow } from './campaigns.ts';
import { allowedByLimits, discountFor, ineligibility, labels, perOrderMaxMinor, type CheckoutContext, type Label, type LiveCampaign, type Scene, type Template, type Usage } from './model.ts';
import { releaseUsage, reserveUsage, returnVoucher, selectUsableVouchers, selectUsage, takeVoucher, type UsageRow, type VoucherRow } from './store.ts';

/**
 * The checkout side of the marketing engine. Live campaigns are held in memory and refreshed
 * every second (and at once after a local change), so a decision is a pure function of memory:
 * no I/O, measured (`decisionP99Ms`). What the decision chooses is then reserved where it cannot
 * race: the user's limits by one conditional upsert, a voucher by one conditional update, and the
 * money by the ledger, whose no-overdraft budget account refuses the discount leg when it is spent.
 *
 * Fails closed: until the first refresh, when the kill switch cannot be read, or when the cache is
 * older than `staleAfterMs` (the database is unreachable), nothing is discounted.
 */
export interface EngineDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ledger: Ledger;
  readonly random: Random;
  readonly refreshMs?: number;
  readonly staleAfterMs?: number;
  readonly log?: (message: string, detail: object) => void;
}

interface Entry {
  readonly live: LiveCampaign;
  readonly budgetAccountId: string;
  /** What the budget held at the last refresh, less what was reserved here since. */
  budgetLeftMinor: bigint;
}

interface Candidate {
  readonly entry: Entry;
  readonly voucher: VoucherRow | null;
  /** Expected amount off (the mean of a random template), within the budget hint. */
  readonly offMinor: bigint;
}

const decisionSamples = 8192;

export class MarketingEngine implements DiscountEngine {
  private entries: Entry[] = [];
  private killed = true;
  private refreshedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private followUp: Promise<void> | undefined;
  private readonly samples = new Float64Array(decisionSamples);
  private sampleCount = 0;

  constructor(private readonly deps: EngineDeps) {}

  start(): void {
    this.timer ??= setInterval(() => {
      void this.refresh().catch((error: unknown) => this.deps.log?.('marketing refresh failed', { error: String(error) }));
    }, this.deps.refreshMs ?? 1000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reloads live campaigns, their budgets and the kill switch, one load at a time. A refresh asked
   * for while one runs gets a new load after it (that one may have read before the change).
   */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.followUp ??= this.refreshing.then(() => {
        this.followUp = undefined;
        return this.refresh();
      });
      return this.followUp;
    }
    this.refreshing = this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const [rows, kill] = await Promise.all([
      this.deps.sql<CampaignRow[]>`SELECT * FROM marketing_campaigns WHERE status = 'active' AND budget_account_id IS NOT NULL`,
      this.deps.sql<{ engaged: boolean }[]>`SELECT engaged FROM marketing_kill_switch WHERE id`.catch(() => undefined),
    ]);
    const entries = await Promise.all(
      rows.map(async (row): Promise<Entry> => {
        const draft = toDraft(row.definition);
        const account = row.budget_account_id === null ? undefined : await this.deps.ledger.getAccount(row.budget_account_id);
        const left = account?.availableMinor ?? 0n;
        return {
          budgetAccountId: row.budget_account_id ?? '',
          budgetLeftMinor: left,
          live: {
            id: row.id,
            template: draft.template,
            scenes: new Set(draft.scenes.map((s) => s.scene)),
            segment: draft.segment,
            perUser: draft.perUser,
            startsAtMs: draft.startsAtMs,
            endsAtMs: draft.endsAtMs,
            label: draft.label,
            stage: row.stage,
            testList: new Set(row.definition.testUserIds ?? []),
            paused: false,
            budgetLeftMinor: left,
          },
        };
      }),
    );
    this.entries = entries;
    this.killed = kill === undefined || (kill[0]?.engaged ?? false);
    this.refreshedAtMs = this.deps.clock.nowMs();
  }

  /** Whether discounts are off: the kill switch, or a cache too old to trust (fail closed). */
  private off(): boolean {
    return this.killed || this.deps.clock.nowMs() - this.refreshedAtMs > (this.deps.staleAfterMs ?? 5000);
  }

  /**
   * The decision: every eligible campaign's expected discount, best first (ties to the lower
   * id). Pure over memory; each call's duration is sampled for `decisionP99Ms`.
   */
  decide(ctx: CheckoutContext, vouchers: readonly VoucherRow[]): Candidate[] {
    const started = performance.now();
    const candidates: Candidate[] = [];
    if (!this.off()) {
      for (const entry of this.entries) {
        const campaign = { ...entry.live, budgetLeftMinor: entry.budgetLeftMinor };
        if (ineligibility(campaign, ctx) !== undefined) continue;
        const template = campaign.template;
        if (template.kind === 'voucher') {
          for (const voucher of vouchers) {
            if (voucher.campaign_id !== campaign.id) continue;
            const off = cap(allowedByLimits(discountFor({ ...template, amountMinor: voucher.amount_minor, minSpendMinor: voucher.min_spend_minor }, ctx.amountMinor, 'expected'), campaign.perUser, ctx.usage(campaign.id)), entry.budgetLeftMinor);
            if (off > 0n) candidates.push({ entry, voucher, offMinor: off });
          }
          continue;
        }
        const off = cap(allowedByLimits(discountFor(template, ctx.amountMinor, 'expected'), campaign.perUser, ctx.usage(campaign.id)), entry.budgetLeftMinor);
        if (off > 0n) candidates.push({ entry, voucher: null, offMinor: off });
      }
      candidates.sort((a, b) => (a.offMinor === b.offMinor ? (a.entry.live.id < b.entry.live.id ? -1 : 1) : a.offMinor > b.offMinor ? -1 : 1));
    }
    this.samples[this.sampleCount % decisionSamples] = performance.now() - started;
    this.sampleCount += 1;
    return candidates;
  }

  /** The 99th percentile of the last decisions' durations, in milliseconds. */
  decisionP99Ms(): number {
    const n = Math.min(this.sampleCount, decisionSamples);
    if (n === 0) return 0;
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor(n * 0.99))] ?? 0;
  }

  /**
   * A checkout's context. Checkout decides with no usage (the reservation is what enforces the
   * limits, atomically); a quote reads the user's usage so what is shown is what would apply.
   */
  private context(request: { readonly scene: Scene; readonly user: AuthUser; readonly amountMinor: bigint }, usage: readonly UsageRow[] = []): CheckoutContext {
    const nowMs = this.deps.clock.nowMs();
    const today = shanghaiDay(nowMs);
    const zero: Usage = { countToday: 0, minorToday: 0n, countTotal: 0, minorTotal: 0n };
    const byCampaign = new Map(usage.map((u): [string, Usage] => [u.campaign_id, { countToday: u.day === today ? u.count_today : 0, minorToday: u.day === today ? u.minor_today : 0n, countTotal: u.count_total, minorTotal: u.minor_total }]));
    return { scene: request.scene, userId: request.user.id, userCreatedAtMs: idTimeMs(request.user.id), amountMinor: request.amountMinor, nowMs, usage: (id) => byCampaign.get(id) ?? zero };
  }

  /** A user's usable vouchers, read only when a live voucher campaign covers this scene. */
  private async vouchersFor(userId: string, scene: Scene): Promise<VoucherRow[]> {
    if (this.off()) return [];
    const ids = this.entries.filter((e) => e.live.template.kind === 'voucher' && e.live.scenes.has(scene)).map((e) => e.live.id);
    return ids.length === 0 ? [] : selectUsableVouchers(this.deps.sql, userId, ids, this.deps.clock.now());
  }

  async quote(request: Omit<DiscountRequest, 'requestKey' | 'offerId'>): Promise<DiscountQuote | undefined> {
    const [vouchers, usage] = await Promise.all([this.vouchersFor(request.user.id, request.scene), this.off() || this.entries.length === 0 ? [] : selectUsage(this.deps.sql, request.user.id, this.entries.map((e) => e.live.id))]);
    const [best] = this.decide(this.context(request, usage), vouchers);
    if (best === undefined) return undefined;
    const template = best.entry.live.template;
    const random = template.kind === 'random';
    // A random discount is shown as the most it can be; the payer pays at least price − that.
    const most = random ? cap(discountFor({ kind: 'fixed', amountMinor: template.maxMinor, minSpendMinor: 0n }, request.amountMinor, 'expected'), best.entry.budgetLeftMinor) : best.offMinor;
    const label = best.entry.live.label;
    return { offerId: best.voucher?.id ?? best.entry.live.id, campaignId: best.entry.live.id, label, labelText: { zh: labels[label].zh, en: labels[label].en }, offMinor: most, random, payMinor: request.amountMinor - most };
  }

  async apply(request: DiscountRequest): Promise<AppliedDiscount | undefined> {
    const vouchers = await this.vouchersFor(request.user.id, request.scene);
    const candidates = this.decide(this.context(request), vouchers).filter((c) => request.offerId === undefined || c.entry.live.id === request.offerId || c.voucher?.id === request.offerId);
    const day = shanghaiDay(this.deps.clock.nowMs());
    for (const candidate of candidates) {
      const { entry, voucher } = candidate;
      const template: Template = entry.live.template;
      const drawn = template.kind === 'random' ? discountFor(template, request.amountMinor, this.deps.random) : candidate.offMinor;
      const want = cap(drawn, entry.budgetLeftMinor);
      if (want <= 0n) continue;
      const reserved = await reserveUsage(this.deps.sql, { campaignId: entry.live.id, userId: request.user.id, day, wantMinor: want, limits: entry.live.perUser });
      if (reserved <= 0n) continue;
      if (voucher !== null && !(await takeVoucher(this.deps.sql, { voucherId: voucher.id, userId: request.user.id, requestKey: request.requestKey, now: this.deps.clock.now() }))) {
        await releaseUsage(this.deps.sql, { campaignId: entry.live.id, userId: request.user.id, day, minor: reserved });
        continue;
      }
      entry.budgetLeftMinor -= reserved;
      let released = false;
      return {
        campaignId: entry.live.id,
        budgetAccountId: entry.budgetAccountId,
        offMinor: reserved,
        label: entry.live.label,
        voucherId: voucher?.id ?? null,
        release: async () => {
          if (released) return;
          released = true;
          entry.budgetLeftMinor += reserved;
          await releaseUsage(this.deps.sql, { campaignId: entry.live.id, userId: request.user.id, day, minor: reserved });
          if (voucher !== null) await returnVoucher(this.deps.sql, voucher.id, request.requestKey);
        },
      };
    }
    return undefined;
  }

  /**
   * A refusal means this process's view of the budget was stale: a refresh that read the balance
   * before a discount landed and replaced the entries after it. Offer the campaign nothing until
   * a fresh read, which this waits for, so the caller can decide again on what is really left.
   */
  async budgetRefused(campaignId: string): Promise<void> {
    for (const entry of this.entries) if (entry.live.id === campaignId) entry.budgetLeftMinor = 0n;
    // A failed read leaves the campaign at nothing left, and the engine fails closed once stale.
    await this.refresh().catch((error: unknown) => this.deps.log?.('marketing refresh failed', { error: String(error) }));
  }

  /** The live campaigns as this process sees them (for /metrics and the console). */
  snapshot(): { readonly killed: boolean; readonly refreshedAtMs: number; readonly campaigns: readonly { readonly id: string; readonly label: Label; readonly budgetLeftMinor: bigint; readonly perOrderMaxMinor: bigint | null }[] } {
    return { killed: this.off(), refreshedAtMs: this.refreshedAtMs, campaigns: this.entries.map((e) => ({ id: e.live.id, label: e.live.label, budgetLeftMinor: e.budgetLeftMinor, perOrderMaxMinor: perOrderMaxMinor(e.live.template) })) };
  }
}

function cap(off: bigint, budgetLeftMinor: bigint): bigint {
  const capped = off > budgetLeftMinor ? budgetLeftMinor : off;
  return capped < 0n ? 0n : capped;
}
