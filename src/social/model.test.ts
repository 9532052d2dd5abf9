/**
 * Goal: the social graph's pure rules — cursors round-trip and refuse anything we did not make,
 * pages never hand out a cursor to an empty page, names and messages are trimmed, pair locks do
 * not depend on argument order, friend-request ids have their own prefix.
 * Method: plain unit tests, no I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../kernel/clock.ts';
import { createIdGenerator } from '../kernel/ids.ts';
import { SeededRandom } from '../kernel/random.ts';
import {
  decodeCursor,
  encodeCursor,
  friendRequestIdPattern,
  nextFriendRequestId,
  normalizeGroupName,
  normalizeMessage,
  pageLimit,
  pageOf,
  pageSizeDefault,
  pairLockKey,
} from './model.ts';

const isInvalid = { code: 'request.invalid' };

test('cursors round-trip and are bound to their list', () => {
  const cursor = encodeCursor('f', ['Ann', 'usr_1']);
  assert.deepEqual(decodeCursor('f', cursor, 2), ['Ann', 'usr_1']);
  assert.throws(() => decodeCursor('g', cursor, 2), isInvalid);
  assert.throws(() => decodeCursor('f', cursor, 1), isInvalid);
  for (const bad of ['', '!!', 'bm9wZQ', encodeCursor('f', []), 'a'.repeat(600)]) {
    assert.throws(() => decodeCursor('f', bad, 2), isInvalid, bad);
  }
  const notStrings = Buffer.from(JSON.stringify(['f', 1, 2])).toString('base64url');
  assert.throws(() => decodeCursor('f', notStrings, 2), isInvalid);
});

test('a page read with limit + 1 rows knows whether more follow', () => {
  const full = pageOf([1, 2, 3], 2, String, (last) => `after-${String(last)}`);
  assert.deepEqual(full, { items: ['1', '2'], nextCursor: 'after-2' });
  const last = pageOf([1, 2], 2, String, (row) => `after-${String(row)}`);
  assert.deepEqual(last, { items: ['1', '2'], nextCursor: null });
  assert.deepEqual(pageOf([], 2, String, String), { items: [], nextCursor: null });
});

test('page limits are 1 to 100, 20 by default', () => {
  assert.equal(pageLimit(undefined), pageSizeDefault);
  assert.equal(pageLimit('100'), 100);
  for (const bad of ['0', '101', '1.5']) assert.throws(() => pageLimit(bad), isInvalid);
});

test('names and messages are trimmed; a blank group name is refused', () => {
  assert.equal(normalizeMessage('  hi  '), 'hi');
  assert.equal(normalizeMessage('   '), null);
  assert.equal(normalizeMessage(undefined), null);
  assert.equal(normalizeGroupName(' 家人 '), '家人');
  assert.throws(() => normalizeGroupName(' \t '), isInvalid);
});

test('a pair has one lock key whichever side asks', () => {
  assert.equal(pairLockKey('usr_a', 'usr_b'), pairLockKey('usr_b', 'usr_a'));
  assert.notEqual(pairLockKey('usr_a', 'usr_b'), pairLockKey('usr_a', 'usr_c'));
});

test('friend-request ids are frq_ and a UUIDv7', () => {
  const ids = createIdGenerator(new FakeClock(), new SeededRandom(3));
  const id = nextFriendRequestId(ids);
  assert.match(id, new RegExp(friendRequestIdPattern));
  assert.notEqual(nextFriendRequestId(ids), id);
});
