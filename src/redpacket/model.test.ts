import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cryptoRandom, SeededRandom } from '../kernel/random.ts';
import { bestLuck, sendProblem, shuffle, splitDigest, splitFixed, splitLucky } from './model.ts';
import { releaseOffsetMs, splitLineCut, userStartOffsetMs } from './rain-model.ts';

const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

test('10,000 lucky packets: every grab position has the same mean within 3%, no share under 1 fen, every packet sums exactly', () => {
  const packets = 10_000;
  const count = 10;
  const totalMinor = 10_000n;
  const positionSums = new Array<number>(count).fill(0);
  let smallest = totalMinor;
  for (let p = 0; p < packets; p++) {
    const shares = splitLucky(totalMinor, count, cryptoRandom);
    assert.equal(shares.length, count);
    assert.equal(sum(shares), totalMinor);
    shares.forEach((share, position) => {
      positionSums[position] = (positionSums[position] ?? 0) + Number(share);
      if (share < smallest) smallest = share;
    });
  }
  assert.ok(smallest >= 1n, `smallest share ${String(smallest)}`);
  const expected = Number(totalMinor) / count;
  // The standard error of a position's mean is about 6 fen here; 3% is 30 fen, five of them.
  const tolerance = expected * 0.03;
  for (const [position, total] of positionSums.entries()) {
    const mean = total / packets;
    assert.ok(Math.abs(mean - expected) <= tolerance, `position ${String(position)}: mean ${mean.toFixed(1)} fen, expected ${String(expected)} ± ${String(tolerance)}`);
  }
});

test('any count and amount: a lucky packet has count shares, each at least 1 fen, summing exactly to the amount', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.bigInt({ min: 0n, max: 2_000_000n }), fc.integer(), (count, extra, seed) => {
      const total = BigInt(count) + extra;
      const shares = splitLucky(total, count, new SeededRandom(seed));
      assert.equal(shares.length, count);
      assert.equal(sum(shares), total);
      for (const share of shares) assert.ok(share >= 1n);
    }),
  );
});

test('the tightest lucky packet gives everyone exactly 1 fen', () => {
  assert.deepEqual(splitLucky(5n, 5, cryptoRandom), [1n, 1n, 1n, 1n, 1n]);
  assert.deepEqual(splitLucky(7n, 1, cryptoRandom), [7n]);
});

test('fixed packets split evenly and refuse what does not divide', () => {
  assert.deepEqual(splitFixed(300n, 3), [100n, 100n, 100n]);
  assert.throws(() => splitFixed(301n, 3), RangeError);
  assert.throws(() => splitLucky(2n, 3, cryptoRandom), RangeError);
});

test('shuffling keeps the multiset; the digest pins the order', () => {
  const random = new SeededRandom(7);
  const items = Array.from({ length: 50 }, (_, i) => BigInt(i + 1));
  const shuffled = shuffle([...items], random);
  assert.deepEqual([...shuffled].sort((a, b) => Number(a - b)), items);
  assert.notDeepEqual(shuffled, items);
  assert.notEqual(splitDigest(shuffled), splitDigest(items));
  assert.equal(splitDigest([1n, 2n]), splitDigest([1n, 2n]));
});

test('send rules, in order: single share to a friend, share count, each share at least 1 fen, at most ¥200 on average, fixed divides', () => {
  const base = { mode: 'lucky' as const, amountMinor: 1000n, count: 10, toFriend: false, sharesMax: 100 };
  assert.equal(sendProblem(base), undefined);
  assert.equal(sendProblem({ ...base, toFriend: true })?.code, 'redpacket.friend_packet_single_share');
  assert.equal(sendProblem({ ...base, toFriend: true, count: 1 }), undefined);
  assert.equal(sendProblem({ ...base, count: 101 })?.code, 'redpacket.too_many_shares');
  assert.equal(sendProblem({ ...base, amountMinor: 9n })?.code, 'redpacket.share_too_small');
  assert.equal(sendProblem({ ...base, amountMinor: 200_001n })?.code, 'redpacket.share_too_large');
  assert.equal(sendProblem({ ...base, amountMinor: 200_000n }), undefined);
  assert.equal(sendProblem({ ...base, mode: 'fixed', amountMinor: 1001n })?.code, 'redpacket.fixed_not_divisible');
  assert.equal(sendProblem({ ...base, mode: 'fixed' }), undefined);
});

test('best luck is the largest share, the earliest among equals', () => {
  const t = (ms: number): Date => new Date(ms);
  const grabs = [
    { who: 'a', amountMinor: 5n, grabbedAt: t(1) },
    { who: 'b', amountMinor: 9n, grabbedAt: t(3) },
    { who: 'c', amountMinor: 9n, grabbedAt: t(2) },
  ];
  assert.equal(bestLuck(grabs)?.who, 'c');
  assert.equal(bestLuck<(typeof grabs)[number]>([]), undefined);
});

test('line-cutting: count prizes of at least 1 fen summing to the pool, each position with the same mean within 4%', () => {
  const runs = 10_000;
  const count = 8;
  const pool = 8_000n;
  const sums = new Array<number>(count).fill(0);
  for (let r = 0; r < runs; r++) {
    const prizes = splitLineCut(pool, count, cryptoRandom);
    assert.equal(prizes.length, count);
    assert.equal(sum(prizes), pool);
    prizes.forEach((prize, i) => {
      assert.ok(prize >= 1n);
      sums[i] = (sums[i] ?? 0) + Number(prize);
    });
  }
  // A piece spreads about as wide as its mean: the standard error is about 10 fen here, 4% is 40.
  for (const total of sums) assert.ok(Math.abs(total / runs - 1000) <= 40, `mean ${String(total / runs)}`);
  // Dense lines (more prizes than half the fen) take the complement path.
  const dense = splitLineCut(10n, 9, cryptoRandom);
  assert.equal(sum(dense), 10n);
  assert.deepEqual(splitLineCut(5n, 5, cryptoRandom), [1n, 1n, 1n, 1n, 1n]);
});

test('prizes are released evenly over the window; users start inside the stagger window', () => {
  assert.equal(releaseOffsetMs(0, 10, 60_000), 0);
  assert.equal(releaseOffsetMs(5, 10, 60_000), 30_000);
  assert.equal(releaseOffsetMs(9, 10, 60_000), 54_000);
  const offsets = Array.from({ length: 1000 }, (_, i) => userStartOffsetMs('rain_x', `usr_${String(i)}`, 3000));
  assert.ok(offsets.every((o) => o >= 0 && o < 3000));
  assert.ok(Math.max(...offsets) > 2500 && Math.min(...offsets) < 500, 'spread over the window');
  assert.equal(userStartOffsetMs('rain_x', 'usr_1', 0), 0);
});
