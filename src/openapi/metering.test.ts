/**
 * Goal: the console's per-app view counts calls and errors and takes its p99 over the last 2,048
 * calls only, however many came before; the token bucket admits `perSecond` a second.
 * Method: a Metering on its own registry and a hand-moved clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Metering } from './metering.ts';

test('p99 is over the last 2,048 calls: older slow calls are forgotten', () => {
  const metering = new Metering(new Registry(), () => 0);
  for (let i = 0; i < 952; i += 1) metering.record('app', 'alipay.trade.query', '40004', 1000);
  assert.equal(metering.view('app').p99Ms, 1000);
  for (let i = 1; i <= 2048; i += 1) metering.record('app', 'alipay.trade.query', '10000', i);
  const view = metering.view('app');
  assert.deepEqual([view.calls, view.errors], [3000, 952]);
  // The last 2,048 durations are 1…2048 ms: the 99th percentile is the 2,028th.
  assert.equal(view.p99Ms, 2028);
  assert.equal(view.methods[0]?.p99Ms, 2028);
  assert.equal(metering.view('other').p99Ms, 0);
});

test('the token bucket admits its rate a second, then refills', () => {
  let now = 0;
  const metering = new Metering(new Registry(), () => now);
  const admitted = Array.from({ length: 4 }, () => metering.admit('app', 3));
  assert.deepEqual(admitted, [true, true, true, false]);
  now += 1000;
  assert.equal(metering.admit('app', 3), true);
});
