/**
 * Goal: the pool hands out its most recently used idle connection (patches/postgres+*.patch), so
 * that under load the same few PostgreSQL backends stay hot in the CPU's caches instead of every
 * connection taking its turn (ADR 0015). Method: open three connections at once, then run
 * statements one after another and see which backends answer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDb, type TestDb } from '../testing/pg.ts';

let t: TestDb;
before(async () => {
  t = await createTestDb({ poolSize: 3 });
});
after(async () => {
  await t.close();
});

test('statements one after another go to the connection used last, not each idle one in turn', async () => {
  // Three at once: the pool opens all three connections.
  const opened = await Promise.all([0, 1, 2].map(async () => (await t.sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`)[0]?.pid));
  assert.equal(new Set(opened).size, 3);
  const pids: (number | undefined)[] = [];
  for (let i = 0; i < 6; i++) pids.push((await t.sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]?.pid);
  // First in, first out would answer from all three backends in turn.
  assert.equal(new Set(pids).size, 1, `backends: ${pids.join(', ')}`);
});
