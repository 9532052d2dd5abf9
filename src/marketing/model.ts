import { createHash } from 'node:crypto';
import type { Random } from '../kernel/random.ts';

/**
 * The marketing engine's pure rules: campaign templates and what they discount, who and which
 * payments they may touch, the checks a campaign must pass to be saved (guardrail 1), its maximum
 * exposure (what four eyes confirm), staged rollout, and the burn-rate breaker. No I/O.
 *
 * The incident this exists for: a template set up as 20% off, every scene, no cap, labelled
 * "government subsidy" on an ordinary budget. Each of those is refused here on its own.
 */

/** Payment scenes a campaign may touch. Only shop scenes are allowed without a written grant. */
export const scenes = ['shop_qr', 'payment_code', 'online_bill', 'p2p_transfer', 'card_repayment', 'topup'] as const;
export type Scene = (typeof scenes)[number];
export const shopScenes: readonly Scene[] = ['shop_qr', 'payment_code'];

/** Who pays for a campaign: the kind of budget account behind it. */
export const fundingKinds = ['platform', 'merchant', 'subsidy'] as const;
export type FundingKind = (typeof fundingKinds)[number];

/** What users are told; each label may only be shown on money of one kind. */
export const labels = {
  government_subsidy: { funding: 'subsidy', zh: '政府补贴', en: 'Government subsidy' },
  merchant_discount: { funding: 'merchant', zh: '商家优惠', en: 'Merchant discount' },
  platform_discount: { funding: 'platform', zh: '平台优惠', en: 'Platform discount' },
} as const satisfies Record<string, { funding: FundingKind; zh: string; en: string }>;
export type Label = keyof typeof labels;

export type Template =
  /** 立减: a fixed amount off, optionally from a minimum spend. */
  | { readonly kind: 'fixed'; readonly amountMinor: bigint; readonly minSpendMinor: bigint }
  /** A percentage off (in basis points), up to a per-order cap. */
  | { readonly kind: 'percent'; readonly basisPoints: number; readonly capMinor: bigint | null }
  /** A random amount off between two bounds (drawn at payment, from the CSPRNG). */
  | { readonly kind: 'random'; readonly minMinor: bigint; readonly maxMinor: bigint }
  /** 满减: spend at least the threshold, get an amount off. */
  | { readonly kind: 'threshold'; readonly thresholdMinor: bigint; readonly amountMinor: bigint }
  /** A voucher issued to users, used once at checkout: an amount off from a minimum spend. */
  | { readonly kind: 'voucher'; readonly amountMinor: bigint; readonly minSpendMinor: bigint; readonly validDays: number };

export type Segment = { readonly kind: 'all' } | { readonly kind: 'new_users'; readonly withinDays: number } | { readonly kind: 'list'; readonly userIds: readonly string[] };

export interface PerUserLimits {
  readonly countPerDay: number;
  readonly minorPerDay: bigint;
  readonly countPerCampaign: number;
  readonly minorPerCampaign: bigint;
}

export interface SceneGrant {
  readonly scene: Scene;
  /** Required for any scene that is not a shop scene: why this campaign may touch it. */
  readonly reason?: string | undefined;
}

export interface CampaignDraft {
  readonly name: string;
  readonly template: Template;
  readonly scenes: readonly SceneGrant[];
  readonly segment: Segment;
  readonly perUser: PerUserLimits;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly label: Label;
  /** The pre-funded budget: its kind and amount. A campaign without one is refused. */
  readonly budget: { readonly funding: FundingKind; readonly amountMinor: bigint } | null;
}

/** The highest rate anyone may save; above it the engine refuses outright. */
export const basisPointsMax = 5000;
export const grantReasonLengthMin = 10;

export interface Problem {
  readonly field: string;
  /** Says what to change. */
  readonly message: string;
}

/** Guardrail 1: every reason a draft may not be saved, each with what to change. */
export function validateCampaign(draft: CampaignDraft): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  const t = draft.template;
  switch (t.kind) {
    case 'percent':
      if (t.capMinor === null) add('template.capMinor', 'a percentage discount needs a per-order cap: set capMinor (for example 2000 for ¥20)');
      else if (t.capMinor <= 0n) add('template.capMinor', 'the per-order cap must be at least 1 fen');
      if (!Number.isInteger(t.basisPoints) || t.basisPoints < 1) add('template.basisPoints', 'the rate is 1 to 5000 basis points (0.01% to 50%)');
      else if (t.basisPoints > basisPointsMax) add('template.basisPoints', `a rate over 50% is refused: set basisPoints to at most ${String(basisPointsMax)}`);
      break;
    case 'fixed':
      if (t.amountMinor <= 0n) add('template.amountMinor', 'the amount off must be at least 1 fen');
      if (t.minSpendMinor < 0n) add('template.minSpendMinor', 'the minimum spend cannot be negative');
      break;
    case 'random':
      if (t.minMinor <= 0n) add('template.minMinor', 'the smallest random discount must be at least 1 fen');
      if (t.maxMinor < t.minMinor) add('template.maxMinor', 'the largest random discount must be at least the smallest');
      break;
    case 'threshold':
      if (t.amountMinor <= 0n) add('template.amountMinor', 'the amount off must be at least 1 fen');
      if (t.thresholdMinor <= t.amountMinor) add('template.thresholdMinor', 'the spend threshold must be above the amount off (满减: spend more than you take off)');
      break;
    case 'voucher':
      if (t.amountMinor <= 0n) add('template.amountMinor', 'a voucher is worth at least 1 fen');
      if (t.minSpendMinor <= t.amountMinor) add('template.minSpendMinor', "a voucher's minimum spend must be above its value");
      if (!Number.isInteger(t.validDays) || t.validDays < 1 || t.validDays > 90) add('template.validDays', 'a voucher is valid for 1 to 90 days');
      break;
  }
  if (draft.budget === null) add('budget', 'a campaign needs a pre-funded budget: choose its funding and amount');
  else if (draft.budget.amountMinor <= 0n) add('budget.amountMinor', 'the budget must be at least 1 fen');
  if (draft.scenes.length === 0) add('scenes', 'choose at least one payment scene (shop QR or payment code)');
  const seen = new Set<Scene>();
  for (const grant of draft.scenes) {
    if (seen.has(grant.scene)) add(`scenes.${grant.scene}`, `scene ${grant.scene} is listed twice`);
    seen.add(grant.scene);
    if (!shopScenes.includes(grant.scene) && (grant.reason === undefined || grant.reason.trim().length < grantReasonLengthMin))
      add(`scenes.${grant.scene}`, `scene ${grant.scene} is not a shop scene: remove it, or grant it with a written reason of at least ${String(grantReasonLengthMin)} characters`);
  }
  const required = labels[draft.label].funding;
  if (draft.budget !== null && draft.budget.funding !== required)
    add('label', `the label "${labels[draft.label].en}" needs a ${required}-funded budget; this budget is ${draft.budget.funding}-funded: change the label or the budget`);
  if (draft.endsAtMs <= draft.startsAtMs) add('window', 'the campaign must end after it starts');
  const p = draft.perUser;
  if (p.countPerDay < 1 || p.countPerCampaign < 1) add('perUser', 'each user may use the campaign at least once a day and once in all');
  if (p.minorPerDay < 1n || p.minorPerCampaign < 1n) add('perUser', 'per-user amount limits must be at least 1 fen');
  if (draft.segment.kind === 'list' && draft.segment.userIds.length === 0) add('segment.userIds', 'a list segment needs at least one user');
  if (draft.name.trim().length === 0) add('name', 'give the campaign a name');
  return problems;
}

/** The most one order can be discounted: what four eyes and the breaker reason with. */
export function perOrderMaxMinor(template: Template): bigint | null {
  switch (template.kind) {
    case 'fixed':
    case 'threshold':
    case 'voucher':
      return template.amountMinor;
    case 'random':
      return template.maxMinor;
    case 'percent':
      return template.capMinor;
  }
}

/**
 * The computed maximum exposure the approver confirms: the budget is a hard ceiling (the budget
 * account cannot go negative), and per user the campaign limits bound it too.
 */
export function maximumExposure(draft: CampaignDraft): { readonly budgetMinor: bigint; readonly perOrderMaxMinor: bigint | null; readonly perUserMaxMinor: bigint } {
  const perOrder = perOrderMaxMinor(draft.template);
  const byCount = perOrder === null ? draft.perUser.minorPerCampaign : perOrder * BigInt(draft.perUser.countPerCampaign);
  return { budgetMinor: draft.budget?.amountMinor ?? 0n, perOrderMaxMinor: perOrder, perUserMaxMinor: byCount < draft.perUser.minorPerCampaign ? byCount : draft.perUser.minorPerCampaign };
}

/**
 * What a template takes off an order of `amountMinor`, before limits and budget: never the whole
 * order (the payer always pays at least 1 fen) and never below zero. Random amounts come from
 * `random` (the CSPRNG in production); `expected` asks for the mean instead, to compare offers.
 */
export function discountFor(template: Template, amountMinor: bigint, random: Random | 'expected'): bigint {
  let off: bigint;
  switch (template.kind) {
    case 'fixed':
      off = amountMinor >= template.minSpendMinor ? template.amountMinor : 0n;
      break;
    case 'threshold':
      off = amountMinor >= template.thresholdMinor ? template.amountMinor : 0n;
      break;
    case 'voucher':
      off = amountMinor >= template.minSpendMinor ? template.amountMinor : 0n;
      break;
    case 'percent': {
      const raw = (amountMinor * BigInt(template.basisPoints)) / 10_000n;
      off = template.capMinor !== null && raw > template.capMinor ? template.capMinor : raw;
      break;
    }
    case 'random': {
      const span = template.maxMinor - template.minMinor;
      off = random === 'expected' ? template.minMinor + span / 2n : template.minMinor + BigInt(random.int(0, Number(span) + 1));
      break;
    }
  }
  const ceiling = amountMinor - 1n;
  if (off > ceiling) off = ceiling;
  return off < 0n ? 0n : off;
}

/** Staged rollout: the test list, then 1%, 10% and 100% of users (a stable hash per campaign). */
export const rolloutStages = ['test_list', 'pct1', 'pct10', 'pct100'] as const;
export type RolloutStage = (typeof rolloutStages)[number];
const stageBasisPoints: Record<RolloutStage, number> = { test_list: 0, pct1: 100, pct10: 1000, pct100: 10_000 };

export function rolloutBucket(campaignId: string, userId: string): number {
  return createHash('sha256').update(`${campaignId}\n${userId}`).digest().readUInt32BE(0) % 10_000;
}

export function inRollout(stage: RolloutStage, campaignId: string, userId: string, testList: ReadonlySet<string>): boolean {
  if (testList.has(userId)) return true;
  return rolloutBucket(campaignId, userId) < stageBasisPoints[stage];
}

export interface Usage {
  readonly countToday: number;
  readonly minorToday: bigint;
  readonly countTotal: number;
  readonly minorTotal: bigint;
}

/**
 * How much of `offMinor` the user's limits still allow (0 when a count limit is reached): the
 * discount is cut to what is left of the amount limits rather than refused.
 */
export function allowedByLimits(offMinor: bigint, limits: PerUserLimits, usage: Usage): bigint {
  if (usage.countToday >= limits.countPerDay || usage.countTotal >= limits.countPerCampaign) return 0n;
  const leftToday = limits.minorPerDay - usage.minorToday;
  const leftTotal = limits.minorPerCampaign - usage.minorTotal;
  const left = leftToday < leftTotal ? leftToday : leftTotal;
  if (left <= 0n) return 0n;
  return offMinor < left ? offMinor : left;
}

export type BreakerTrip =
  | { readonly reason: 'burn_rate'; readonly spentPerMinuteMinor: bigint; readonly forecastPerMinuteMinor: bigint; readonly factor: number }
  | { readonly reason: 'unforecast_scene'; readonly scene: Scene };

/**
 * Guardrail 5: pause when the last minute's spend runs over `factor` × the forecast per minute,
 * or when a scene the forecast did not include starts spending.
 */
export function breakerTrip(input: {
  readonly spentLastMinuteMinor: bigint;
  readonly forecastPerMinuteMinor: bigint;
  readonly factor: number;
  readonly scenesSpending: ReadonlySet<Scene>;
  readonly forecastScenes: ReadonlySet<Scene>;
}): BreakerTrip | undefined {
  for (const scene of input.scenesSpending) if (!input.forecastScenes.has(scene)) return { reason: 'unforecast_scene', scene };
  // factor is a small number (3 by default); compare in tenths to stay in integers.
  const limit = (input.forecastPerMinuteMinor * BigInt(Math.round(input.factor * 10))) / 10n;
  if (input.spentLastMinuteMinor > limit) return { reason: 'burn_rate', spentPerMinuteMinor: input.spentLastMinuteMinor, forecastPerMinuteMinor: input.forecastPerMinuteMinor, factor: input.factor };
  return undefined;
}

/** Guardrail 7: what changed between two versions, field by field (JSON paths, old and new). */
export function diffVersions(before: unknown, after: unknown, path = ''): { readonly path: string; readonly before: unknown; readonly after: unknown }[] {
  const plain = (value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);
  if (typeof before === 'object' && before !== null && typeof after === 'object' && after !== null && !Array.isArray(before) && !Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffVersions((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`));
  }
  const a = JSON.stringify(before, (_k, v: unknown) => plain(v));
  const b = JSON.stringify(after, (_k, v: unknown) => plain(v));
  return a === b ? [] : [{ path, before: plain(before), after: plain(after) }];
}

/** A campaign as checkout sees it: activated, with its stage and what its budget holds. */
export interface LiveCampaign {
  readonly id: string;
  readonly template: Template;
  readonly scenes: ReadonlySet<Scene>;
  readonly segment: Segment;
  readonly perUser: PerUserLimits;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly label: Label;
  readonly stage: RolloutStage;
  readonly testList: ReadonlySet<string>;
  readonly paused: boolean;
  /** A hint for choosing: the ledger's no-overdraft budget account is what actually refuses. */
  readonly budgetLeftMinor: bigint;
}

export interface CheckoutContext {
  readonly scene: Scene;
  readonly userId: string;
  readonly userCreatedAtMs: number;
  readonly amountMinor: bigint;
  readonly nowMs: number;
  readonly usage: (campaignId: string) => Usage;
}

export interface Offer {
  readonly campaignId: string;
  /** What the campaign would take off (the mean, for a random template). */
  readonly offMinor: bigint;
  readonly label: Label;
}

function inSegment(segment: Segment, ctx: CheckoutContext): boolean {
  switch (segment.kind) {
    case 'all':
      return true;
    case 'new_users':
      return ctx.nowMs - ctx.userCreatedAtMs <= segment.withinDays * 86_400_000;
    case 'list':
      return segment.userIds.includes(ctx.userId);
  }
}

/** Why a live campaign offers nothing to this checkout, or undefined when it may offer. */
export function ineligibility(campaign: LiveCampaign, ctx: CheckoutContext): string | undefined {
  if (campaign.paused) return 'paused';
  if (ctx.nowMs < campaign.startsAtMs || ctx.nowMs >= campaign.endsAtMs) return 'outside its window';
  // Deny by default: a scene the campaign was not granted is never touched.
  if (!campaign.scenes.has(ctx.scene)) return `scene ${ctx.scene} not granted`;
  if (!inSegment(campaign.segment, ctx)) return 'user not in the segment';
  if (!inRollout(campaign.stage, campaign.id, ctx.userId, campaign.testList)) return 'user not in the rollout stage';
  if (campaign.budgetLeftMinor <= 0n) return 'budget spent';
  return undefined;
}

/**
 * The best benefit for a checkout: the largest amount any eligible campaign would take off,
 * within the user's limits and what its budget holds; ties go to the lower campaign id.
 */
export function bestOffer(campaigns: readonly LiveCampaign[], ctx: CheckoutContext): Offer | undefined {
  let best: Offer | undefined;
  for (const campaign of campaigns) {
    if (ineligibility(campaign, ctx) !== undefined) continue;
    let off = allowedByLimits(discountFor(campaign.template, ctx.amountMinor, 'expected'), campaign.perUser, ctx.usage(campaign.id));
    if (off > campaign.budgetLeftMinor) off = campaign.budgetLeftMinor;
    if (off <= 0n) continue;
    if (best === undefined || off > best.offMinor || (off === best.offMinor && campaign.id < best.campaignId)) best = { campaignId: campaign.id, offMinor: off, label: campaign.label };
  }
  return best;
}
