/**
 * Goal: ids are a type prefix plus a UUIDv7 whose time comes from the injected clock, so ids sort
 * by creation time and a fake clock makes them reproducible.
 * Method: generate ids on a FakeClock with a SeededRandom and check the pattern, order and isId.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { createIdGenerator, idPattern, idPrefixes, isId } from './ids.ts';
import { SeededRandom } from './random.ts';

describe('ids', () => {
  test('every prefix gives prefix_ + a version-7 UUID', () => {
    const ids = createIdGenerator(new FakeClock(), new SeededRandom(1));
    for (const prefix of idPrefixes) {
      const id = ids.next(prefix);
      assert.match(id, new RegExp(idPattern(prefix)));
      assert.match(
        id,
        /^[a-z]+_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.ok(isId(prefix, id));
    }
  });

  test('the UUID carries the clock time in its first 48 bits', () => {
    const clock = new FakeClock(Date.UTC(2026, 1, 16, 12));
    const id = createIdGenerator(clock, new SeededRandom(2)).next('txf');
    const hex = id.slice('txf_'.length).replace(/-/g, '').slice(0, 12);
    assert.equal(Number.parseInt(hex, 16), clock.nowMs());
  });

  test('ids made later sort later', () => {
    const clock = new FakeClock();
    const ids = createIdGenerator(clock, new SeededRandom(3));
    const made: string[] = [];
    for (let step = 0; step < 200; step++) {
      made.push(ids.next('acct'));
      clock.advance(1 + (step % 7) * 1000);
    }
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, made.length);
  });

  test('the same clock and seed give the same ids; another seed does not', () => {
    const run = (seed: number): string[] => {
      const ids = createIdGenerator(new FakeClock(), new SeededRandom(seed));
      return [ids.next('rpk'), ids.next('rpk')];
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  test('isId rejects another prefix, other UUID versions and decoration', () => {
    const id = createIdGenerator(new FakeClock(), new SeededRandom(4)).next('acct');
    const uuid = id.slice('acct_'.length);
    assert.equal(isId('txf', id), false);
    assert.equal(isId('acct', uuid), false);
    assert.equal(isId('acct', `${id} `), false);
    assert.equal(isId('acct', ` ${id}`), false);
    assert.equal(isId('acct', id.toUpperCase()), false);
    assert.equal(isId('acct', `acct_${uuid.slice(0, 14)}4${uuid.slice(15)}`), false);
    assert.equal(isId('acct', 'acct_'), false);
  });
});
