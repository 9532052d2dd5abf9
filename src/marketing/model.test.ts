import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../kernel/random.ts';
import {
  allowedByLimits,
  breakerTrip,
  diffVersions,
  discountFor,
  inRollout,
  maximumExposure,
  rolloutBucket,
  scenes,
  bestOffer,
  ineligibility,
  validateCampaign,
  type CampaignDraft,
  type CheckoutContext,
  type LiveCampaign,
  type Usage,
} from './model.ts';

const sane: CampaignDraft = {
  name: '周末立减',
  template: { kind: 'fixed', amountMinor: 500n, minSpendMinor: 2000n },
  scenes: [{ scene: 'shop_qr' }, { scene: 'payment_code' }],
  segment: { kind: 'all' },
  perUser: { countPerDay: 1, minorPerDay: 500n, countPerCampaign: 3, minorPerCampaign: 1500n },
  startsAtMs: 0,
  endsAtMs: 3600_000,
  label: 'platform_discount',
  budget: { funding: 'platform', amountMinor: 1_000_000n },
};

test('the 16 January 2025 template is refused at save, each mistake with what to change', () => {
  const incident: CampaignDraft = {
    ...sane,
    name: 'routine',
    template: { kind: 'percent', basisPoints: 2000, capMinor: null },
    scenes: scenes.map((scene) => ({ scene })),
    label: 'government_subsidy',
    budget: { funding: 'platform', amountMinor: 10_000_000n },
  };
  const problems = validateCampaign(incident);
  const fields = problems.map((p) => p.field);
  assert.ok(fields.includes('template.capMinor'), 'no cap');
  assert.ok(fields.includes('label'), 'subsidy label on platform money');
  for (const scene of ['online_bill', 'p2p_transfer', 'card_repayment', 'topup']) assert.ok(fields.includes(`scenes.${scene}`), `${scene} without a grant`);
  for (const problem of problems) assert.match(problem.message, /set|remove|change|grant|choose/, problem.message);
  assert.deepEqual(validateCampaign(sane), []);
});

test('each guardrail-1 check on its own', () => {
  const fields = (draft: CampaignDraft) => validateCampaign(draft).map((p) => p.field);
  assert.deepEqual(fields({ ...sane, template: { kind: 'percent', basisPoints: 5001, capMinor: 1000n } }), ['template.basisPoints']);
  assert.deepEqual(fields({ ...sane, template: { kind: 'percent', basisPoints: 5000, capMinor: 1000n } }), []);
  assert.deepEqual(fields({ ...sane, budget: null }), ['budget']);
  assert.deepEqual(fields({ ...sane, scenes: [{ scene: 'shop_qr' }, { scene: 'p2p_transfer', reason: 'short' }] }), ['scenes.p2p_transfer']);
  assert.deepEqual(fields({ ...sane, scenes: [{ scene: 'shop_qr' }, { scene: 'p2p_transfer', reason: 'Lunar new year transfer promotion, approved by finance' }] }), []);
  assert.deepEqual(fields({ ...sane, label: 'government_subsidy', budget: { funding: 'subsidy', amountMinor: 100n } }), []);
  assert.deepEqual(fields({ ...sane, label: 'merchant_discount' }), ['label']);
  assert.deepEqual(fields({ ...sane, template: { kind: 'threshold', thresholdMinor: 500n, amountMinor: 500n } }), ['template.thresholdMinor']);
  assert.deepEqual(fields({ ...sane, template: { kind: 'random', minMinor: 300n, maxMinor: 100n } }), ['template.maxMinor']);
  assert.deepEqual(fields({ ...sane, endsAtMs: 0 }), ['window']);
  assert.deepEqual(fields({ ...sane, scenes: [] }), ['scenes']);
});

test('discounts: never the whole order, never negative; percentages capped; thresholds and minimum spends honoured', () => {
  assert.equal(discountFor({ kind: 'fixed', amountMinor: 500n, minSpendMinor: 2000n }, 1999n, 'expected'), 0n);
  assert.equal(discountFor({ kind: 'fixed', amountMinor: 500n, minSpendMinor: 0n }, 300n, 'expected'), 299n);
  assert.equal(discountFor({ kind: 'percent', basisPoints: 2000, capMinor: 1000n }, 3000n, 'expected'), 600n);
  assert.equal(discountFor({ kind: 'percent', basisPoints: 2000, capMinor: 1000n }, 100_000n, 'expected'), 1000n);
  assert.equal(discountFor({ kind: 'threshold', thresholdMinor: 10_000n, amountMinor: 1500n }, 9_999n, 'expected'), 0n);
  assert.equal(discountFor({ kind: 'threshold', thresholdMinor: 10_000n, amountMinor: 1500n }, 10_000n, 'expected'), 1500n);
  assert.equal(discountFor({ kind: 'random', minMinor: 100n, maxMinor: 300n }, 10_000n, 'expected'), 200n);
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 10_000_000n }), fc.integer({ min: 1, max: 5000 }), fc.bigInt({ min: 1n, max: 100_000n }), fc.integer(), (amount, bp, cap, seed) => {
      for (const template of [
        { kind: 'percent' as const, basisPoints: bp, capMinor: cap },
        { kind: 'random' as const, minMinor: 1n, maxMinor: cap },
        { kind: 'fixed' as const, amountMinor: cap, minSpendMinor: 0n },
      ]) {
        const off = discountFor(template, amount, new SeededRandom(seed));
        assert.ok(off >= 0n && off < amount && off <= cap);
      }
    }),
  );
});

test('per-user limits cut a discount to what is left, and stop it at a count', () => {
  const limits = sane.perUser;
  assert.equal(allowedByLimits(500n, limits, { countToday: 0, minorToday: 0n, countTotal: 0, minorTotal: 0n }), 500n);
  assert.equal(allowedByLimits(500n, limits, { countToday: 1, minorToday: 500n, countTotal: 1, minorTotal: 500n }), 0n);
  assert.equal(allowedByLimits(500n, { ...limits, countPerDay: 5, minorPerDay: 5000n }, { countToday: 2, minorToday: 800n, countTotal: 2, minorTotal: 1200n }), 300n);
});

test('maximum exposure is bounded by the budget, per order and per user', () => {
  assert.deepEqual(maximumExposure(sane), { budgetMinor: 1_000_000n, perOrderMaxMinor: 500n, perUserMaxMinor: 1500n });
});

test('rollout: 1% and 10% stages take about that share of users, stably; the test list always', () => {
  const users = Array.from({ length: 20_000 }, (_, i) => `usr_${String(i)}`);
  const share = (stage: 'pct1' | 'pct10') => users.filter((u) => inRollout(stage, 'cmp_x', u, new Set())).length / users.length;
  assert.ok(Math.abs(share('pct1') - 0.01) < 0.003, String(share('pct1')));
  assert.ok(Math.abs(share('pct10') - 0.1) < 0.01, String(share('pct10')));
  assert.equal(users.filter((u) => inRollout('test_list', 'cmp_x', u, new Set(['usr_7']))).length, 1);
  assert.equal(rolloutBucket('cmp_x', 'usr_1'), rolloutBucket('cmp_x', 'usr_1'));
  // Every user in 1% is in 10%: promotion only adds people.
  assert.ok(users.every((u) => !inRollout('pct1', 'cmp_x', u, new Set()) || inRollout('pct10', 'cmp_x', u, new Set())));
});

test('the breaker trips on spend over k times the forecast, and on a scene the forecast did not have', () => {
  const base = { forecastPerMinuteMinor: 1000n, factor: 3, scenesSpending: new Set(['shop_qr' as const]), forecastScenes: new Set(['shop_qr' as const]) };
  assert.equal(breakerTrip({ ...base, spentLastMinuteMinor: 3000n }), undefined);
  assert.equal(breakerTrip({ ...base, spentLastMinuteMinor: 3001n })?.reason, 'burn_rate');
  assert.deepEqual(breakerTrip({ ...base, spentLastMinuteMinor: 0n, scenesSpending: new Set(['shop_qr', 'p2p_transfer'] as const) }), { reason: 'unforecast_scene', scene: 'p2p_transfer' });
});

test('versions diff field by field', () => {
  assert.deepEqual(diffVersions(sane, { ...sane, template: { kind: 'fixed', amountMinor: 600n, minSpendMinor: 2000n }, name: 'x' }), [
    { path: 'name', before: '周末立减', after: 'x' },
    { path: 'template.amountMinor', before: '500', after: '600' },
  ]);
  assert.deepEqual(diffVersions(sane, sane), []);
});

test('the best offer: deny-by-default scenes, segments, rollout, pause and budget decide who may offer; the largest wins', () => {
  const live = (id: string, over: Partial<LiveCampaign> = {}): LiveCampaign => ({
    id,
    template: { kind: 'fixed', amountMinor: 300n, minSpendMinor: 0n },
    scenes: new Set(['shop_qr']),
    segment: { kind: 'all' },
    perUser: sane.perUser,
    startsAtMs: 0,
    endsAtMs: 10_000,
    label: 'platform_discount',
    stage: 'pct100',
    testList: new Set(),
    paused: false,
    budgetLeftMinor: 1_000_000n,
    ...over,
  });
  const none: Usage = { countToday: 0, minorToday: 0n, countTotal: 0, minorTotal: 0n };
  const ctx: CheckoutContext = { scene: 'shop_qr', userId: 'usr_a', userCreatedAtMs: 0, amountMinor: 5000n, nowMs: 5000, usage: () => none };
  const percent = live('cmp_b', { template: { kind: 'percent', basisPoints: 1000, capMinor: 450n } });
  assert.deepEqual(bestOffer([live('cmp_a'), percent], ctx), { campaignId: 'cmp_b', offMinor: 450n, label: 'platform_discount' });
  assert.equal(bestOffer([live('cmp_a')], { ...ctx, scene: 'p2p_transfer' }), undefined);
  assert.equal(ineligibility(live('cmp_a'), { ...ctx, scene: 'topup' }), 'scene topup not granted');
  assert.equal(ineligibility(live('cmp_a', { paused: true }), ctx), 'paused');
  assert.equal(ineligibility(live('cmp_a', { budgetLeftMinor: 0n }), ctx), 'budget spent');
  assert.equal(ineligibility(live('cmp_a', { segment: { kind: 'new_users', withinDays: 7 } }), { ...ctx, userCreatedAtMs: -8 * 86_400_000 }), 'user not in the segment');
  assert.equal(ineligibility(live('cmp_a', { stage: 'test_list' }), ctx), 'user not in the rollout stage');
  assert.equal(bestOffer([live('cmp_a', { budgetLeftMinor: 120n })], ctx)?.offMinor, 120n);
  assert.equal(bestOffer([live('cmp_a')], { ...ctx, usage: () => ({ countToday: 1, minorToday: 300n, countTotal: 1, minorTotal: 300n }) }), undefined);
});
