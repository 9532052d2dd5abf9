/**
 * Goal: a packet and a rain first grabbed and tapped on PostgreSQL keep their promises when the
 * same database is then served with Redis: who already grabbed gets the same share again and no
 * second, the shares left are still there for others, a winner's caps still count their earlier
 * wins, and everything reconciles.
 * Method: two apps over one test schema — without REDIS_URL, then with it (skipped, saying so,
 * when REDIS_URL is not set).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { SeededRandom } from '../../src/kernel/random.ts';
import { reconcile } from '../../src/ledger/index.ts';
import { balanceMinor, fundedUser, newUser } from '../../src/payments/testing.ts';
import { grab, groupOf, sendPacket, settleAll } from '../../src/redpacket/testing.ts';
import { asUser, createTestApp, type TestUser } from '../../src/testing/app.ts';

const url = process.env['REDIS_URL'];
const skip = url === undefined || url === '' ? 'REDIS_URL is not set: switching to Redis was not tested' : false;

test('grabs and taps on PostgreSQL, then on Redis: nobody twice, the rest still there, caps still count', { skip }, async () => {
  const t = await createTestApp();
  const config = loadConfig({ QIANBAO_OPERATOR_TOKEN: t.operatorToken, QIANBAO_DATA_DIR: `/tmp/qianbao-switch-${randomBytes(4).toString('hex')}`, QIANBAO_BATCH_LINGER_MS: '0', REDIS_URL: url ?? '', QIANBAO_REDIS_PREFIX: `${t.db.schema}:` });
  const withRedis = await buildApp({ config, sql: t.db.sql, clock: t.clock, random: new SeededRandom(12) });
  try {
    assert.equal(t.app.redPackets.grabPath, 'postgres');
    assert.equal(withRedis.redPackets.grabPath, 'redis');
    const alice = await newUser(t.app);
    await fundedUser(t.app, alice, 100_000n);
    const members = await Promise.all([1, 2, 3].map(() => newUser(t.app)));
    const groupId = await groupOf(t.app, alice, members);
    const packet = await sendPacket(t.app, alice, { amountMinor: '900', count: 3, groupId });
    const first = await grab(t.app, members[0] as TestUser, packet.id);
    assert.equal(first.statusCode, 201, first.body);
    const mine = first.json<{ amountMinor: string }>().amountMinor;

    const again = await grab(withRedis, members[0] as TestUser, packet.id);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json<{ amountMinor: string }>().amountMinor, mine);
    const others = await Promise.all([grab(withRedis, members[1] as TestUser, packet.id), grab(withRedis, members[2] as TestUser, packet.id)]);
    assert.deepEqual(others.map((r) => r.statusCode), [201, 201]);
    await settleAll(t.app);
    await settleAll(withRedis);
    const total = (await Promise.all(members.map((m) => balanceMinor(t.app, m.walletAccountId)))).reduce((a, b) => a + b, 0n);
    assert.equal(total, 900n);
    const audit = await withRedis.redPackets.audit(packet.id);
    assert.equal(audit.ok, true, audit.problems.join('; '));

    // A rain: one win on PostgreSQL uses up the user's cap of 1 on Redis too.
    await t.app.rains.depositBudget(1000n, 'switch', 'acct_system_bank_cny');
    const operator = await t.app.operators.create({ username: 'switch', password: 'operator-pass-1', role: 'admin' });
    const rain = await t.app.rains.schedule(operator.id, { name: 'switch', mode: 'line_cut', poolMinor: 100n, prizeCount: 4, startsAt: t.clock.now(), durationMs: 1000, staggerMs: 0, perUserWinsMax: 1, perUserMinorMax: 100n });
    t.clock.advance(900);
    const bob = members[1] as TestUser;
    assert.equal((await asUser(t.app, bob, 'POST', `/v1/rains/${rain.id}/taps`)).json<{ won: boolean }>().won, true);
    const capped = (await asUser(withRedis, bob, 'POST', `/v1/rains/${rain.id}/taps`)).json<{ won: boolean; capped: boolean }>();
    assert.deepEqual([capped.won, capped.capped], [false, true]);
    assert.equal((await asUser(withRedis, members[2] as TestUser, 'POST', `/v1/rains/${rain.id}/taps`)).json<{ won: boolean }>().won, true);
    await t.app.rains.settleNow();
    await withRedis.rains.settleNow();
    const rainAudit = await withRedis.rains.audit(rain.id);
    assert.equal(rainAudit.ok, true, rainAudit.problems.join('; '));
    assert.equal((await reconcile(t.db.sql)).ok, true);
  } finally {
    await withRedis.close();
    await t.close();
  }
});
