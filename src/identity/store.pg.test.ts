/**
 * Goal: the session lookup names its columns (no password or ID-number hash on a request), so a
 * column added to identity_users must be added there too, or a request's row silently lacks it.
 * This test reads the table's columns from the catalogue and expects the lookup to answer every one
 * but the two hashes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDb, type TestDb } from '../testing/pg.ts';
import { insertSession, insertUser, selectSessionUsers } from './store.ts';

let t: TestDb;
before(async () => {
  t = await createTestDb();
});
after(async () => {
  await t.close();
});

test('a live session answers every column of its user but the password and ID-number hashes', async () => {
  const now = new Date('2026-12-03T00:00:00Z');
  await t.sql.begin((tx) => insertUser(tx, { id: 'usr_1', mobile: '13700000001', displayName: 'one', passwordHash: 'argon2-hash', walletAccountId: 'acct_1', createdAt: now }));
  await insertSession(t.sql, { tokenSha256: 'a'.repeat(64), userId: 'usr_1', createdAt: now, expiresAt: new Date(now.getTime() + 60_000) });
  const withheld = ['password_hash', 'id_number_hash'];
  const [row] = await selectSessionUsers(t.sql, ['a'.repeat(64)], now);
  assert.ok(row !== undefined, 'the live session is found');
  const columns = await t.sql<{ column_name: string }[]>`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'identity_users'`;
  const expected = columns.map((c) => c.column_name).filter((name) => !withheld.includes(name)).concat('token_sha256').sort();
  assert.deepEqual(Object.keys(row).sort(), expected);
  for (const name of withheld) assert.equal((row as Record<string, unknown>)[name], undefined);
});
