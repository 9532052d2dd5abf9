import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { completionUpdate } from '../http/idempotency.ts';
import { createTestDb, type TestDb } from '../testing/pg.ts';

let t: TestDb;
before(async () => {
  t = await createTestDb();
});
after(async () => {
  await t.close();
});

const claim = (key: string) => ({ principal: 'user_1', route: 'POST /v1/transfers', key, attempt: 1 });
const response = { statusCode: 201, contentType: 'application/json; charset=utf-8', body: '{}' };

test('a statement first run while its table was small reads by index once the table has grown', async () => {
  const connection = await t.sql.reserve();
  try {
    const now = new Date('2026-12-03T00:00:00Z');
    await connection`
      INSERT INTO http_idempotency_keys (principal, route, key, request_sha256, state, created_at, locked_at)
      VALUES ('user_1', 'POST /v1/transfers', 'k0', ${'0'.repeat(64)}, 'in_flight', ${now}, ${now})`;
    // More runs than PostgreSQL's five custom plans before it may settle on a cached generic one.
    for (let run = 0; run < 8; run++) await completionUpdate(connection, [{ claim: claim('k0'), response }], now, null);
    await connection`
      INSERT INTO http_idempotency_keys (principal, route, key, request_sha256, state, created_at, locked_at)
      SELECT 'user_' || n, 'POST /v1/transfers', 'k' || n, ${'0'.repeat(64)}, 'in_flight', ${now}, ${now}
      FROM generate_series(2, 20001) AS n`;
    // This backend's scan counts of the table (those not yet reported included, so read twice in
    // one transaction, where nothing is reported in between).
    const scans = async () => {
      const [row] = await connection<{ seq_scan: bigint; idx_scan: bigint }[]>`
        SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'http_idempotency_keys'::regclass`;
      return { seq: row?.seq_scan ?? 0n, idx: row?.idx_scan ?? 0n };
    };
    await connection`BEGIN`;
    const before = await scans();
    const rows = await completionUpdate(connection, [{ claim: { ...claim('k77'), principal: 'user_77' }, response }], now, null);
    const after = await scans();
    await connection`ROLLBACK`;
    assert.equal(rows.length, 1, 'the record was completed');
    assert.equal(after.seq - before.seq, 0n, 'no scan of the whole table');
    assert.ok(after.idx - before.idx >= 1n, 'found through its primary key');
  } finally {
    connection.release();
  }
});
