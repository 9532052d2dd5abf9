/**
 * Goal: the Redis grab scripts on a real Redis — a packet split over several sub-pools gives
 * exactly its shares to exactly that many people, nobody twice, however the grabs race; a user
 * whose home sub-pool is empty spills into another; a spill interrupted before home recorded it
 * finds the same share again on retry; draining hands every record over once, and a drain that
 * died before forgetting its records hands them over again.
 * Method: RedisSharePool against REDIS_URL (CI sets it) with 2 shares per sub-pool, keys under a
 * random prefix. Skipped, saying so, when REDIS_URL is not set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connectRedis } from '../kernel/redis.ts';
import { homeSubPool, RedisSharePool, subPoolCount, type SettleRecord } from './redis-pool.ts';

const url = process.env['REDIS_URL'];
const skip = url === undefined || url === '' ? 'REDIS_URL is not set: the Redis grab scripts were not run' : false;
const redis = skip === false ? connectRedis(url ?? '', `t_${randomBytes(6).toString('hex')}:`) : undefined;
const perPool = 2;

before(() => {
  if (skip !== false) process.stderr.write(`*** ${skip} ***\n`);
});
after(async () => {
  await redis?.quit();
});

function pool(): RedisSharePool {
  if (redis === undefined) throw new Error('no Redis');
  return new RedisSharePool(redis, perPool);
}

const shares = [5n, 1n, 9n, 2n, 7n, 3n, 4n];
// 14 users, 12 of whom share sub-pool 0 as home: that pool's 2 shares cannot serve them all.
const candidates = Array.from({ length: 400 }, (_, i) => `usr_${String(i).padStart(3, '0')}`);
const users = [...candidates.filter((u) => homeSubPool(u, 4) === 0).slice(0, 12), ...candidates.filter((u) => homeSubPool(u, 4) !== 0).slice(0, 2)];

test('7 shares over 4 sub-pools, 14 users racing twice each: 7 winners, nobody twice, the sum exact', { skip }, async () => {
  const p = pool();
  const packet = `rpk_${randomBytes(4).toString('hex')}`;
  assert.equal(subPoolCount(shares.length, perPool), 4);
  await p.load(packet, shares);
  await p.load(packet, shares); // a second load changes nothing
  const results = await Promise.all([...users, ...users].map((user) => p.grab(packet, shares.length, user, 1000).then((r) => ({ user, r }))));
  const won = new Map<string, bigint>();
  let spills = 0;
  for (const { user, r } of results) {
    if (r.state === 'empty') continue;
    const previous = won.get(user);
    assert.ok(previous === undefined || previous === r.amountMinor, `${user} got two different shares`);
    // Share seq s lives in sub-pool s % 4: a winner served from another pool spilled.
    if (previous === undefined && r.seq % 4 !== homeSubPool(user, 4)) spills++;
    won.set(user, r.amountMinor);
  }
  assert.ok(spills > 0, 'users whose home ran dry were served by other sub-pools');
  assert.equal(won.size, shares.length);
  assert.equal([...won.values()].reduce((a, b) => a + b, 0n), 31n);
  const totals = await p.grabbedTotals(packet, shares.length);
  assert.deepEqual(totals, { count: 7, amountMinor: 31n });
  const records: SettleRecord[] = [];
  assert.equal(await p.drain(packet, shares.length, (batch) => { records.push(...batch); return Promise.resolve(); }), 7);
  assert.deepEqual(new Set(records.map((r) => r.userId)), new Set(won.keys()));
  assert.equal(await p.drain(packet, shares.length, () => Promise.resolve()), 0);
});

test('a spill interrupted before home recorded it finds the same share on retry', { skip }, async () => {
  const p = pool();
  const packet = `rpk_${randomBytes(4).toString('hex')}`;
  await p.load(packet, [10n, 20n, 30n, 40n]);
  // Fill the home sub-pool of one user with others until it is empty, so they must spill.
  const target = 'usr_target';
  const home = homeSubPool(target, 2);
  const others = Array.from({ length: 200 }, (_, i) => `usr_o${String(i)}`).filter((u) => homeSubPool(u, 2) === home).slice(0, 2);
  for (const other of others) assert.equal((await p.grab(packet, 4, other, 1)).state, 'new');
  const first = await p.grab(packet, 4, target, 2);
  assert.equal(first.state, 'new');
  // As if the process died between the spill and home's record of it.
  if (redis === undefined) throw new Error('no Redis');
  await redis.hset(`rp:{${packet}:${String(home)}}:grabbed`, target, 'spill:2');
  const retry = await p.grab(packet, 4, target, 3);
  assert.equal(retry.amountMinor, first.amountMinor);
  assert.equal(retry.seq, first.seq);
  assert.equal((await p.grabbedTotals(packet, 4)).count, 3);
  const records: SettleRecord[] = [];
  await p.drain(packet, 4, (batch) => { records.push(...batch); return Promise.resolve(); });
  assert.equal(records.filter((r) => r.userId === target).length, 1, 'one settlement record for the retried spill');
});

test('a drain that fails hands the same records over again', { skip }, async () => {
  const p = pool();
  const packet = `rpk_${randomBytes(4).toString('hex')}`;
  await p.load(packet, [3n, 4n]);
  await p.grab(packet, 2, 'usr_a', 1);
  await p.grab(packet, 2, 'usr_b', 1);
  await assert.rejects(p.drain(packet, 2, () => Promise.reject(new Error('database away'))));
  const records: SettleRecord[] = [];
  await p.drain(packet, 2, (batch) => { records.push(...batch); return Promise.resolve(); });
  assert.deepEqual(records.map((r) => r.userId).sort(), ['usr_a', 'usr_b']);
  await p.close(packet, 2);
  assert.equal((await p.grab(packet, 2, 'usr_c', 1)).state, 'empty');
});

test('sub-pools known empty are skipped by a first spill, never by a retried one', { skip }, async () => {
  if (redis === undefined) throw new Error('no Redis');
  const p = pool();
  const packet = `rpk_${randomBytes(4).toString('hex')}`;
  await p.load(packet, [10n, 20n, 30n, 40n]);
  const named = Array.from({ length: 400 }, (_, i) => `usr_e${String(i)}`);
  const target = 'usr_target';
  const home = homeSubPool(target, 2);
  const [h1, h2, h3, h4] = named.filter((u) => homeSubPool(u, 2) === home);
  const [o1] = named.filter((u) => homeSubPool(u, 2) !== home);
  assert.ok(h1 !== undefined && h2 !== undefined && h3 !== undefined && h4 !== undefined && o1 !== undefined);
  for (const user of [h1, h2]) assert.equal((await p.grab(packet, 4, user, 1)).state, 'new');
  const first = await p.grab(packet, 4, target, 2); // spills into the other sub-pool
  assert.equal(first.state, 'new');
  await redis.hset(`rp:{${packet}:${String(home)}}:grabbed`, target, 'spill:2'); // died before home recorded it
  assert.equal((await p.grab(packet, 4, o1, 3)).state, 'new'); // the last share
  assert.equal((await p.grab(packet, 4, h3, 4)).state, 'empty'); // asks both sub-pools, learns they are empty
  const evalCalls = { n: 0 };
  const evaluate = redis.eval.bind(redis);
  redis.eval = ((...args: Parameters<typeof redis.eval>) => {
    evalCalls.n++;
    return evaluate(...args);
  }) as typeof redis.eval;
  try {
    assert.equal((await p.grab(packet, 4, h4, 5)).state, 'empty');
    assert.equal(evalCalls.n, 1, 'a new loser asks only its home sub-pool');
    const retry = await p.grab(packet, 4, target, 6);
    assert.equal(retry.state, 'new');
    assert.equal(retry.seq, first.seq, 'the retried spill found its share in a sub-pool known empty');
    assert.equal(evalCalls.n, 3, 'the retry asked home, then the other sub-pool');
  } finally {
    redis.eval = evaluate;
  }
  assert.equal((await p.grabbedTotals(packet, 4)).count, 4);
});
