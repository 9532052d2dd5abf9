/**
 * Goal: the hourly rain and fission packets end to end, on PostgreSQL and (when REDIS_URL is set)
 * on Redis — an operator funds the budget and schedules a rain (four eyes are not needed for a
 * budgeted rain; a viewer may not); users start at staggered instants; taps win released prizes or
 * nothing; the pool is spread over the window and never exceeded; per-user caps hold; the rest
 * goes back to the budget once; a winner hands a fission packet that friends open once each and
 * whose rest goes back to the budget; every audit and the ledger reconcile.
 * Method: the whole app on a test schema and a fake clock, through app.inject().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asUser, closeReconciled, createTestApp, type TestApp, type TestUser } from '../../src/testing/app.ts';
import { balanceMinor, expectProblem, newUser } from '../../src/payments/testing.ts';
import { befriend, grab, grabPaths, settleAll } from '../../src/redpacket/testing.ts';
import { campaignBudgetAccountId } from '../../src/redpacket/index.ts';

let t: TestApp;

interface RainJson {
  id: string;
  prizeCount: number;
  startsAt: string;
  endsAt: string;
  myStartsAt: string;
  myWins: { prizeSeq: number; amountMinor: string }[];
}

let operatorCount = 0;

async function operatorToken(role: 'admin' | 'viewer'): Promise<string> {
  const username = `op${role}${String(++operatorCount)}`;
  await t.app.operators.create({ username, password: 'operator-pass-1', role });
  const login = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username, password: 'operator-pass-1' } });
  return login.json<{ token: string }>().token;
}

function asOperator(token: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'idempotency-key': `op-${String(Math.random())}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}

function tap(user: TestUser, rainId: string) {
  return asUser(t.app, user, 'POST', `/v1/rains/${rainId}/taps`);
}

for (const path of grabPaths()) {
  describe(`the hourly rain, taps on ${path.name}`, () => {
    let admin: string;
    before(async () => {
      // Taps here come faster than a thumb; the per-user limit has its own test below.
      t = await createTestApp({ ...path.env, QIANBAO_REDPACKET_GRAB_RATE_PER_S: '1000' });
      admin = await operatorToken('admin');
      const deposit = await asOperator(admin, 'POST', '/v1/admin/campaign-budget/deposits', { amountMinor: '1000000' });
      assert.equal(deposit.statusCode, 201, deposit.body);
    });
    after(() => closeReconciled(t));

    test('a viewer may not schedule; bad rains are refused with what to change', async () => {
      const viewer = await operatorToken('viewer');
      const body = { name: '整点红包', mode: 'line_cut', poolMinor: '1000', prizeCount: 10, startsAt: t.clock.now().toISOString(), durationSeconds: 60, perUserWinsMax: 2, perUserMinorMax: '500' };
      expectProblem(await asOperator(viewer, 'POST', '/v1/admin/rains', body), 403, 'request.forbidden');
      expectProblem(await asOperator(admin, 'POST', '/v1/admin/rains', { ...body, poolMinor: '5' }), 422, 'rain.invalid');
      expectProblem(await asOperator(admin, 'POST', '/v1/admin/rains', { ...body, fissionShares: 3 }), 422, 'rain.invalid');
      expectProblem(await asOperator(admin, 'POST', '/v1/admin/rains', { ...body, poolMinor: '99000000' }), 422, 'ledger.insufficient_funds');
      expectProblem(await asUser(t.app, await newUser(t.app), 'POST', '/v1/admin/rains', body), 401, 'request.unauthorized');
    });

    test('staggered starts, taps win released prizes only, caps hold, the pool is spread and never exceeded, the rest returns once', async () => {
      const budgetBefore = await balanceMinor(t.app, campaignBudgetAccountId);
      const startsAt = new Date(t.clock.nowMs() + 60_000);
      const scheduled = await asOperator(admin, 'POST', '/v1/admin/rains', { name: '整点红包', mode: 'line_cut', poolMinor: '10000', prizeCount: 20, startsAt: startsAt.toISOString(), durationSeconds: 100, staggerMs: 2000, perUserWinsMax: 3, perUserMinorMax: '5000', fissionShares: 2, fissionMinor: '300' });
      assert.equal(scheduled.statusCode, 201, scheduled.body);
      const rainId = scheduled.json<{ id: string }>().id;
      assert.equal(await balanceMinor(t.app, campaignBudgetAccountId), budgetBefore - 10_000n);
      const users = await Promise.all([1, 2, 3, 4, 5].map(() => newUser(t.app)));
      const current = await asUser(t.app, users[0] as TestUser, 'GET', '/v1/rains/current');
      const seen = current.json<{ rains: RainJson[] }>().rains.find((r) => r.id === rainId);
      assert.ok(seen !== undefined);
      const offset = Date.parse(seen.myStartsAt) - startsAt.getTime();
      assert.ok(offset >= 0 && offset < 2000);
      expectProblem(await tap(users[0] as TestUser, rainId), 409, 'rain.not_started');

      // Walk the window in tenths; everyone taps a few times in each.
      t.clock.advance(60_000 + 2000);
      const wonPerTenth: bigint[] = [];
      const won = new Map<string, bigint[]>();
      for (let tenth = 0; tenth < 10; tenth++) {
        let paid = 0n;
        for (let round = 0; round < 4; round++) {
          for (const user of users) {
            const response = await tap(user, rainId);
            assert.equal(response.statusCode, 200, response.body);
            const body = response.json<{ won: boolean; amountMinor: string }>();
            if (body.won) {
              paid += BigInt(body.amountMinor);
              won.set(user.id, [...(won.get(user.id) ?? []), BigInt(body.amountMinor)]);
            }
          }
        }
        wonPerTenth.push(paid);
        t.clock.advance(10_000);
      }
      const total = wonPerTenth.reduce((a, b) => a + b, 0n);
      assert.ok(total <= 10_000n, 'never more than the pool');
      for (const amounts of won.values()) {
        assert.ok(amounts.length <= 3, 'at most 3 wins each');
        assert.ok(amounts.reduce((a, b) => a + b, 0n) <= 5000n, 'at most ¥50 each');
      }
      // Prizes come out over the whole window, not in the first second.
      assert.ok(wonPerTenth.filter((paid) => paid > 0n).length >= 5, wonPerTenth.join(','));
      expectProblem(await tap(users[0] as TestUser, rainId), 410, 'rain.ended');

      await settleAll(t.app);
      await t.app.rains.settleNow();
      for (const user of users) assert.equal(await balanceMinor(t.app, user.walletAccountId), (won.get(user.id) ?? []).reduce((a, b) => a + b, 0n));
      const [bill] = (await asUser(t.app, users.find((u) => won.has(u.id)) as TestUser, 'GET', '/v1/bills?kind=rain_prize')).json<{ bills: { direction: string; rainId: string; counterparty: { displayName: string } }[] }>().bills;
      assert.equal(bill?.direction, 'income');
      assert.equal(bill.rainId, rainId);
      assert.equal(bill.counterparty.displayName, '整点红包');

      await Promise.all([t.app.rains.sweepEnded(), t.app.rains.sweepEnded()]);
      await t.app.rains.sweepEnded();
      // The budget got back exactly what nobody won.
      assert.equal(await balanceMinor(t.app, campaignBudgetAccountId), budgetBefore - total);
      const audit = await t.app.rains.audit(rainId);
      assert.equal(audit.ok, true, audit.problems.join('; '));
      const stats = await asOperator(admin, 'GET', `/v1/admin/rains/${rainId}`);
      const body = stats.json<{ wonMinor: string; buckets: { wonMinor: string }[]; audit: { ok: boolean } }>();
      assert.equal(body.audit.ok, true);
      assert.equal(body.wonMinor, String(total));
      assert.equal(body.buckets.length, 10);
      assert.equal(body.buckets.reduce((a, b) => a + BigInt(b.wonMinor), 0n), total);
    });

    test("a winner's fission packet: friends open it once each, strangers and the winner cannot, the rest returns to the budget", async () => {
      const startsAt = new Date(t.clock.nowMs());
      const scheduled = await asOperator(admin, 'POST', '/v1/admin/rains', { name: '裂变雨', mode: 'double_mean', poolMinor: '500', prizeCount: 1, startsAt: startsAt.toISOString(), durationSeconds: 10, staggerMs: 0, perUserWinsMax: 1, perUserMinorMax: '500', fissionShares: 3, fissionMinor: '900' });
      assert.equal(scheduled.statusCode, 201, scheduled.body);
      const rainId = scheduled.json<{ id: string }>().id;
      const winner = await newUser(t.app);
      const friends = await Promise.all([1, 2].map(() => newUser(t.app)));
      for (const friend of friends) await befriend(t.app, winner, friend);
      const stranger = await newUser(t.app);
      const result = (await tap(winner, rainId)).json<{ won: boolean; prizeSeq: number }>();
      assert.equal(result.won, true);
      // The settler every win starts puts it in the winner's view, on either path.
      await t.app.rains.settleNow();
      const seen = (await asUser(t.app, winner, 'GET', `/v1/rains/${rainId}`)).json<RainJson>();
      assert.deepEqual(seen.myWins.map((w) => w.prizeSeq), [result.prizeSeq]);
      const budgetBefore = await balanceMinor(t.app, campaignBudgetAccountId);
      expectProblem(await asUser(t.app, winner, 'POST', `/v1/rains/${rainId}/fission`, { prizeSeq: 7 }), 404, 'rain.prize_not_found');
      expectProblem(await asUser(t.app, stranger, 'POST', `/v1/rains/${rainId}/fission`, { prizeSeq: result.prizeSeq }), 404, 'rain.prize_not_found');
      const handed = await asUser(t.app, winner, 'POST', `/v1/rains/${rainId}/fission`, { prizeSeq: result.prizeSeq });
      assert.equal(handed.statusCode, 201, handed.body);
      const packet = handed.json<{ id: string; shareCount: number; amountMinor: string; to: { type: string } }>();
      assert.equal(packet.shareCount, 3);
      assert.equal(packet.to.type, 'fission');
      const again = await asUser(t.app, winner, 'POST', `/v1/rains/${rainId}/fission`, { prizeSeq: result.prizeSeq });
      assert.equal(again.json<{ id: string }>().id, packet.id, 'one fission packet per prize');
      assert.equal(await balanceMinor(t.app, campaignBudgetAccountId), budgetBefore - 900n);
      expectProblem(await grab(t.app, winner, packet.id), 422, 'redpacket.own_packet');
      expectProblem(await grab(t.app, stranger, packet.id), 404, 'redpacket.not_found');
      let opened = 0n;
      for (const friend of friends) {
        const first = await grab(t.app, friend, packet.id);
        assert.equal(first.statusCode, 201, first.body);
        assert.equal((await grab(t.app, friend, packet.id)).statusCode, 200);
        opened += BigInt(first.json<{ amountMinor: string }>().amountMinor);
      }
      const inbox = (await asUser(t.app, friends[0] as TestUser, 'GET', '/v1/redpackets?box=inbox')).json<{ packets: { id: string; toType: string; targetName: string }[] }>().packets;
      assert.equal(inbox.find((p) => p.id === packet.id)?.toType, 'fission');
      assert.equal(inbox.find((p) => p.id === packet.id)?.targetName, '裂变雨');
      await settleAll(t.app);
      t.clock.advance(24 * 3600_000);
      await t.app.runMaintenance();
      await t.app.redPackets.sweepExpired();
      assert.equal(await balanceMinor(t.app, campaignBudgetAccountId), budgetBefore - opened);
      // A day passed: the operator's console session ended; log in again.
      const auditResponse = await asOperator(await operatorToken('admin'), 'GET', `/v1/admin/redpackets/${packet.id}/audit`);
      assert.equal(auditResponse.statusCode, 200, auditResponse.body);
      const audit = auditResponse.json<{ ok: boolean; problems: string[]; refundedMinor: string }>();
      assert.equal(audit.ok, true, audit.problems.join('; '));
      assert.equal(audit.refundedMinor, String(900n - opened));
    });
  });
}

describe('tap rate', () => {
  test('more than 10 taps a second by one user get a clear 429', async () => {
    const local = await createTestApp();
    try {
      const deposit = await local.app.rains.depositBudget(10_000n, 'rate-test', 'acct_system_bank_cny');
      assert.ok(deposit >= 10_000n);
      const operator = await local.app.operators.create({ username: 'ratetest', password: 'operator-pass-1', role: 'admin' });
      const rain = await local.app.rains.schedule(operator.id, { name: 'rate', mode: 'line_cut', poolMinor: 100n, prizeCount: 10, startsAt: local.clock.now(), durationMs: 60_000, staggerMs: 0, perUserWinsMax: 1, perUserMinorMax: 100n });
      const user = await newUser(local.app);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await asUser(local.app, user, 'POST', `/v1/rains/${rain.id}/taps`)).statusCode);
      assert.equal(statuses[0], 200);
      assert.ok(statuses.includes(429), statuses.join(','));
    } finally {
      await local.close();
    }
  });
});
