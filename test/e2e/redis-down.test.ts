/**
 * Goal: with REDIS_URL set but Redis unreachable, sending a red packet still works (the money moves
 * and the packet is active), a grab answers a retryable 503 problem instead of a 500, and nothing
 * is granted; the ledger reconciles.
 * Method: the whole app on a test schema with REDIS_URL pointing at a port nothing listens on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectProblem, fundedUser, newUser } from '../../src/payments/testing.ts';
import { grab, groupOf, sendPacket } from '../../src/redpacket/testing.ts';
import { closeReconciled, createTestApp } from '../../src/testing/app.ts';

test('Redis away: the send goes through, a grab is a retryable 503, nothing is granted', async () => {
  const t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
  try {
    assert.equal(t.app.redPackets.grabPath, 'redis');
    const alice = await newUser(t.app);
    await fundedUser(t.app, alice, 10_000n);
    const bob = await newUser(t.app);
    const groupId = await groupOf(t.app, alice, [bob]);
    const packet = await sendPacket(t.app, alice, { amountMinor: '200', count: 2, groupId });
    assert.equal(packet.state, 'active');
    const body = expectProblem(await grab(t.app, bob, packet.id), 503, 'server.unavailable');
    assert.equal(body['retryable'], true);
    const [row] = await t.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM redpacket_shares WHERE grabbed_by IS NOT NULL`;
    assert.equal(row?.n, 0);
  } finally {
    await closeReconciled(t);
  }
});
