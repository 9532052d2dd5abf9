/**
 * Goal: SeededRandom replays exactly from its seed and stays inside the ranges it promises, so a
 * failing simulation can be rerun from the printed seed.
 * Method: compare sequences from equal and different seeds; draw many values and check bounds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, cryptoRandom } from './random.ts';

function draws(random: SeededRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.int(0, 1_000_000));
}

describe('SeededRandom', () => {
  test('the same seed gives the same sequence; another seed another', () => {
    assert.deepEqual(draws(new SeededRandom(42), 100), draws(new SeededRandom(42), 100));
    assert.notDeepEqual(draws(new SeededRandom(42), 100), draws(new SeededRandom(43), 100));
    assert.deepEqual(new SeededRandom(9).bytes(32), new SeededRandom(9).bytes(32));
    assert.equal(new SeededRandom(42).seed, 42);
  });

  test('int stays in [min, max) and reaches every value of a small range', () => {
    const random = new SeededRandom(7);
    const seen = new Set<number>();
    for (let draw = 0; draw < 5000; draw++) {
      const value = random.int(-3, 4);
      assert.ok(Number.isInteger(value) && value >= -3 && value < 4, String(value));
      seen.add(value);
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [-3, -2, -1, 0, 1, 2, 3],
    );
    for (let draw = 0; draw < 1000; draw++) assert.equal(random.int(5, 6), 5);
  });

  test('int over a wide range spreads over it', () => {
    const random = new SeededRandom(11);
    const values = Array.from({ length: 2000 }, () => random.int(0, 2 ** 40));
    assert.ok(values.every((value) => value >= 0 && value < 2 ** 40));
    assert.ok(
      values.some((value) => value > 2 ** 39),
      'upper half reached',
    );
    assert.ok(
      values.some((value) => value < 2 ** 39),
      'lower half reached',
    );
  });

  test('bytes are the asked length of byte values', () => {
    const bytes = new SeededRandom(3).bytes(64);
    assert.equal(bytes.length, 64);
    assert.ok(bytes.every((byte) => byte >= 0 && byte <= 255));
    assert.ok(new Set(bytes).size > 16, 'bytes vary');
  });

  test('an empty range is an error', () => {
    assert.throws(() => new SeededRandom(1).int(5, 5), RangeError);
    assert.throws(() => new SeededRandom(1).int(6, 5), RangeError);
  });
});

describe('cryptoRandom', () => {
  test('has the same contract', () => {
    for (let draw = 0; draw < 100; draw++) {
      const value = cryptoRandom.int(10, 20);
      assert.ok(value >= 10 && value < 20);
    }
    assert.equal(cryptoRandom.bytes(16).length, 16);
  });

  test('pooled draws never repeat bytes across refills, and large draws bypass the pool', () => {
    // 2,000 draws of 16 bytes span several 4 KiB refills; a reused slice would repeat a draw.
    const seen = new Set<string>();
    for (let draw = 0; draw < 2000; draw++) {
      const bytes = cryptoRandom.bytes(16);
      assert.equal(bytes.length, 16);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    assert.equal(seen.size, 2000);
    const first = cryptoRandom.bytes(16);
    const copy = Buffer.from(first).toString('hex');
    cryptoRandom.bytes(4096);
    for (let draw = 0; draw < 300; draw++) cryptoRandom.bytes(16);
    // A handed-out draw is a copy: refilling the pool does not change it.
    assert.equal(Buffer.from(first).toString('hex'), copy);
    assert.equal(cryptoRandom.bytes(1000).length, 1000);
  });
});
