/**
 * Goal: the ledger's pure batch rules — submissions apply in order, a failing linked group leaves
 * every book as it found it, a group may not repeat an id, hot-account shards spread evenly, and
 * the chain hash covers every field of a transfer.
 * Method: applyBatch on in-memory books built here; no database.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyBatch,
  linkHash,
  shardIndex,
  type AccountBooks,
  type BatchState,
  type Book,
  type NewTransfer,
  type Submission,
  type TransferRequest,
} from './model.ts';

const nowMs = Date.UTC(2026, 0, 1);

function book(id: string, options: { noOverdraft: boolean; creditsPosted?: bigint }): Book {
  return {
    id,
    accountId: id,
    currency: 'CNY',
    noOverdraft: options.noOverdraft,
    overdraftLimitMinor: 0n,
    debitsPending: 0n,
    debitsPosted: 0n,
    creditsPending: 0n,
    creditsPosted: options.creditsPosted ?? 0n,
  };
}

/** A bank that may go negative, and two wallets that may not; `alice` starts with 100 fen. */
function world(): { state: BatchState; books: Record<'bank' | 'alice' | 'bob', Book> } {
  const books = {
    bank: book('bank', { noOverdraft: false }),
    alice: book('alice', { noOverdraft: true, creditsPosted: 100n }),
    bob: book('bob', { noOverdraft: true }),
  };
  const accounts = new Map<string, AccountBooks>(
    Object.values(books).map((b) => [b.id, { id: b.id, currency: 'CNY', books: [b] }]),
  );
  return {
    state: {
      accounts,
      transfers: new Map(),
      resolutions: new Map(),
      nowMs,
      transferAmountMaxMinor: 1_000_000n,
    },
    books,
  };
}

function move(id: string, from: string, to: string, amountMinor: bigint): TransferRequest {
  return {
    id,
    type: 'posted',
    debitAccountId: from,
    creditAccountId: to,
    amountMinor,
    currency: 'CNY',
    kind: 'p2p',
  };
}

function totals(b: Book): bigint[] {
  return [b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted];
}

function statuses(results: readonly { status: string; error?: string }[][]): string[][] {
  return results.map((list) =>
    list.map((r) => (r.status === 'failed' ? `failed:${r.error ?? ''}` : r.status)),
  );
}

describe('applyBatch', () => {
  test('submissions apply in order: money received earlier in the batch can be spent later', () => {
    const { state, books } = world();
    const outcome = applyBatch(state, [
      { transfer: move('t1', 'alice', 'bob', 100n) },
      { transfer: move('t2', 'bob', 'alice', 60n) },
    ]);
    assert.deepEqual(statuses(outcome.results), [['created'], ['created']]);
    assert.equal(books.bob.creditsPosted - books.bob.debitsPosted, 40n);
    assert.deepEqual(
      outcome.created.map((t) => t.id),
      ['t1', 't2'],
    );
    // The running balance in each entry is the book's balance right after that transfer.
    assert.deepEqual(
      outcome.created[0]?.entries.map((e) => e.balanceAfterMinor),
      [0n, 100n],
    );
    assert.deepEqual(
      outcome.created[1]?.entries.map((e) => e.balanceAfterMinor),
      [40n, 60n],
    );
  });

  test('in the other order the spend fails alone and changes nothing', () => {
    const { state, books } = world();
    const outcome = applyBatch(state, [
      { transfer: move('t2', 'bob', 'alice', 60n) },
      { transfer: move('t1', 'alice', 'bob', 100n) },
    ]);
    assert.deepEqual(statuses(outcome.results), [['failed:insufficient_funds'], ['created']]);
    assert.deepEqual(
      outcome.created.map((t) => t.id),
      ['t1'],
    );
    assert.equal(books.bob.creditsPosted, 100n);
    assert.equal(books.bob.debitsPosted, 0n);
  });

  test('a failing linked group restores every book it touched; neighbours are untouched', () => {
    const { state, books } = world();
    const before = Object.values(books).map(totals);
    const outcome = applyBatch(state, [
      {
        group: [
          move('g1', 'bank', 'alice', 500n),
          { ...move('g2', 'alice', 'bob', 300n), type: 'pending' },
          move('g3', 'bob', 'bank', 1000n),
        ],
      },
    ]);
    assert.deepEqual(statuses(outcome.results), [
      ['failed:linked_event_failed', 'failed:linked_event_failed', 'failed:insufficient_funds'],
    ]);
    assert.deepEqual(Object.values(books).map(totals), before);
    assert.deepEqual(outcome.created, []);
    assert.deepEqual(outcome.dirtyBooks, []);

    const next = applyBatch(state, [
      { group: [move('h1', 'bank', 'alice', 5n), move('h2', 'alice', 'nobody', 5n)] },
      { transfer: move('h3', 'alice', 'bob', 100n) },
      // The failed group's ids were never created: they are free to use again.
      { transfer: move('g1', 'bank', 'bob', 1n) },
    ]);
    assert.deepEqual(statuses(next.results), [
      ['failed:linked_event_failed', 'failed:credit_account_not_found'],
      ['created'],
      ['created'],
    ]);
    assert.equal(books.alice.creditsPosted - books.alice.debitsPosted, 0n);
    assert.equal(books.bob.creditsPosted, 101n);
  });

  test('a group that succeeds applies all its members with the group id', () => {
    const { state, books } = world();
    const outcome = applyBatch(state, [
      { group: [move('a1', 'bank', 'alice', 50n), move('a2', 'alice', 'bob', 150n)] },
    ]);
    assert.deepEqual(statuses(outcome.results), [['created', 'created']]);
    assert.deepEqual(
      outcome.created.map((t) => t.groupId),
      ['a1', 'a1'],
    );
    assert.equal(books.bob.creditsPosted, 150n);
    assert.equal(new Set(outcome.dirtyBooks).size, 3);
  });

  test('the same id twice in one group fails the group', () => {
    const { state, books } = world();
    const before = totals(books.bob);
    const outcome = applyBatch(state, [
      { group: [move('d1', 'alice', 'bob', 10n), move('d1', 'alice', 'bob', 10n)] },
    ]);
    assert.deepEqual(statuses(outcome.results), [
      ['failed:linked_event_failed', 'failed:duplicate_id_in_request'],
    ]);
    assert.deepEqual(totals(books.bob), before);
    assert.deepEqual(outcome.created, []);
  });

  test('the same id in two submissions of a batch is an idempotent retry', () => {
    const { state, books } = world();
    const outcome = applyBatch(state, [
      { transfer: move('r1', 'alice', 'bob', 10n) },
      { transfer: move('r1', 'alice', 'bob', 10n) },
      { transfer: move('r1', 'alice', 'bob', 11n) },
    ]);
    assert.deepEqual(statuses(outcome.results), [
      ['created'],
      ['exists'],
      ['failed:exists_with_different_amount'],
    ]);
    assert.deepEqual(
      outcome.created.map((t) => t.id),
      ['r1'],
    );
    assert.equal(books.bob.creditsPosted, 10n);
  });

  test('a hold reserves funds; post moves part of it and releases the rest', () => {
    const { state, books } = world();
    const submissions: Submission[] = [
      { transfer: { ...move('p1', 'alice', 'bob', 80n), type: 'pending' } },
      { transfer: move('x1', 'alice', 'bob', 30n) },
      { transfer: { id: 'p1-post', type: 'post', pendingId: 'p1', amountMinor: 50n } },
      { transfer: { id: 'p1-void', type: 'void', pendingId: 'p1' } },
    ];
    const outcome = applyBatch(state, submissions);
    assert.deepEqual(statuses(outcome.results), [
      ['created'],
      ['failed:insufficient_funds'],
      ['created'],
      ['failed:pending_transfer_already_posted'],
    ]);
    assert.deepEqual(totals(books.alice), [0n, 50n, 0n, 100n]);
    assert.deepEqual(totals(books.bob), [0n, 0n, 0n, 50n]);
  });
});

describe('shardIndex', () => {
  test('is deterministic, in range, and spreads ids evenly', () => {
    const shardCount = 8;
    const idsCount = 8000;
    const counts = new Array<number>(shardCount).fill(0);
    for (let index = 0; index < idsCount; index++) {
      const id = `txf-${String(index)}`;
      const shard = shardIndex(id, shardCount);
      assert.ok(Number.isInteger(shard) && shard >= 0 && shard < shardCount);
      assert.equal(shardIndex(id, shardCount), shard);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    const expected = idsCount / shardCount;
    for (const count of counts)
      assert.ok(count > expected * 0.8 && count < expected * 1.2, `counts ${counts.join(',')}`);
    assert.equal(shardIndex('anything', 1), 0);
  });
});

describe('linkHash', () => {
  const base: NewTransfer = {
    id: 't1',
    type: 'posted',
    debitAccountId: 'a',
    creditAccountId: 'b',
    debitBookId: 'a',
    creditBookId: 'b',
    amountMinor: 100n,
    currency: 'CNY',
    kind: 'p2p',
    pendingId: null,
    timeoutAtMs: null,
    groupId: null,
    metadata: { order: 'o-1' },
    createdAtMs: nowMs,
    entries: [
      { bookId: 'a', side: 'D', amountMinor: 100n, balanceAfterMinor: -100n },
      { bookId: 'b', side: 'C', amountMinor: 100n, balanceAfterMinor: 100n },
    ],
  };
  const previous = new Uint8Array(32);

  test('is a deterministic 32-byte hash', () => {
    const hash = linkHash(previous, 1n, base);
    assert.equal(hash.length, 32);
    assert.ok(hash.equals(linkHash(previous, 1n, { ...base })));
    assert.ok(hash.equals(linkHash(previous, 1n, { ...base, metadata: { order: 'o-1' } })));
  });

  test('changes when any field, the seq, the previous link or an entry changes', () => {
    const hash = linkHash(previous, 1n, base);
    const [debit, credit] = base.entries;
    assert.ok(debit && credit);
    const variants: [string, NewTransfer][] = [
      ['id', { ...base, id: 't2' }],
      ['type', { ...base, type: 'pending', entries: base.entries }],
      ['debitAccountId', { ...base, debitAccountId: 'c' }],
      ['creditAccountId', { ...base, creditAccountId: 'c' }],
      ['debitBookId', { ...base, debitBookId: 'a.s1' }],
      ['creditBookId', { ...base, creditBookId: 'b.s1' }],
      ['amountMinor', { ...base, amountMinor: 101n }],
      ['currency', { ...base, currency: 'USD' }],
      ['kind', { ...base, kind: 'refund' }],
      ['pendingId', { ...base, pendingId: 'p1' }],
      ['timeoutAtMs', { ...base, timeoutAtMs: nowMs + 1000 }],
      ['groupId', { ...base, groupId: 'g1' }],
      ['metadata value', { ...base, metadata: { order: 'o-2' } }],
      ['metadata key', { ...base, metadata: { other: 'o-1' } }],
      ['createdAtMs', { ...base, createdAtMs: nowMs + 1 }],
      ['debit entry amount', { ...base, entries: [{ ...debit, amountMinor: 99n }, credit] }],
      [
        'debit entry balance',
        { ...base, entries: [{ ...debit, balanceAfterMinor: -99n }, credit] },
      ],
      [
        'credit entry balance',
        { ...base, entries: [debit, { ...credit, balanceAfterMinor: 101n }] },
      ],
      ['no entries', { ...base, entries: [] }],
    ];
    const seen = new Set([hash.toString('hex')]);
    for (const [field, variant] of variants) {
      const changed = linkHash(previous, 1n, variant).toString('hex');
      assert.notEqual(changed, hash.toString('hex'), field);
      seen.add(changed);
    }
    assert.equal(seen.size, variants.length + 1, 'every variant hashes differently');
    assert.ok(!linkHash(previous, 2n, base).equals(hash), 'seq');
    const otherPrevious = new Uint8Array(32);
    otherPrevious[31] = 1;
    assert.ok(!linkHash(otherPrevious, 1n, base).equals(hash), 'previous link');
  });
});
