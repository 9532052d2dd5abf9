/**
 * Goal: a batch whose write misses a book (a stale row address) lands nothing at all — not its
 * transfers, not its entries, not the books it did reach — even though its COMMIT is already on
 * the wire behind the write.
 * Method: one schema; the writer's own steps (load under the chain-head lock, apply, write, COMMIT)
 * on a reserved connection, with one book's row address replaced by one that matches no row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from '../testing/pg.ts';
import { createTestLedger, systemInput, walletInput } from '../testing/ledger.ts';
import { applyBatch, linkHash } from './model.ts';
import { loadBatch, writeBatch } from './store.ts';
import type { Ledger } from './index.ts';

let db: TestDb;
let ledger: Ledger;
before(async () => {
  db = await createTestDb();
  ({ ledger } = createTestLedger(db.sql));
});
after(async () => {
  await ledger.close();
  await db.close();
});

test('a write that misses a book rolls the whole batch back', async () => {
  const bank = (await ledger.createAccount(systemInput())).id;
  const wallet = (await ledger.createAccount(walletInput())).id;
  const request = { id: 'guard-1', type: 'posted' as const, debitAccountId: bank, creditAccountId: wallet, amountMinor: 500n, currency: 'CNY', kind: 'topup' };
  const connection = await db.sql.reserve();
  try {
    const begun = connection`BEGIN`.execute();
    const loaded = await loadBatch(connection, { transferIds: [request.id], pendingIds: [], accountIds: [bank, wallet] });
    await begun;
    const outcome = applyBatch(
      { accounts: loaded.accounts, transfers: loaded.transfers, resolutions: loaded.resolutions, nowMs: Date.now(), transferAmountMaxMinor: 10n ** 12n },
      [{ transfer: request }],
    );
    const [created] = outcome.created;
    assert.ok(created !== undefined);
    const seq = loaded.head.lastSeq + 1n;
    const rowRefs = new Map(loaded.rowRefs);
    rowRefs.set(wallet, '(0,9999)');
    const writes = writeBatch(connection, { created: outcome.created, seqs: [seq], hashes: [linkHash(loaded.head.hash, seq, created)], dirtyBooks: outcome.dirtyBooks, rowRefs });
    const committing = connection`COMMIT`.execute();
    await assert.rejects(writes, /every book/);
    const ended = await committing;
    assert.equal(ended.command, 'ROLLBACK');
  } finally {
    connection.release();
  }
  const [row] = await db.sql<{ transfers: bigint; entries: bigint; head: bigint }[]>`
    SELECT (SELECT count(*) FROM ledger_transfers WHERE id = 'guard-1')::int8 AS transfers,
           (SELECT count(*) FROM ledger_entries)::int8 AS entries,
           (SELECT last_seq FROM ledger_chain_head) AS head`;
  assert.deepEqual(row, { transfers: 0n, entries: 0n, head: 0n });
  assert.equal((await ledger.getAccount(bank))?.balanceMinor, 0n);
  // The writer itself still works afterwards.
  assert.equal((await ledger.transfer(request)).status, 'created');
});
