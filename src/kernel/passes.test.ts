import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Passes } from './passes.ts';

test('one pass at a time; a kick during a pass runs one more; work found goes round again; runNow drains', async () => {
  let queued = 3;
  let running = 0;
  let most = 0;
  let calls = 0;
  const passes = new Passes(async () => {
    calls++;
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running--;
    const done = Math.min(queued, 1);
    queued -= done;
    return done;
  }, () => undefined);
  passes.kick();
  passes.kick();
  passes.kick();
  await passes.runNow();
  assert.equal(most, 1);
  assert.equal(queued, 0);
  assert.ok(calls >= 4, String(calls));
  queued = 2;
  assert.equal(await passes.runNow(), 2);
});

test('a failing pass is reported and ends the round; close stops new passes', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const passes = new Passes(() => {
    calls++;
    return Promise.reject(new Error('database away'));
  }, (error) => errors.push(error));
  passes.kick();
  await passes.close();
  assert.equal(errors.length, 1);
  passes.kick();
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(calls, 1);
});
