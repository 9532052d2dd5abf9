/**
 * Goal: the CLI's pure parts (src/cli-model.ts) — flags to ledger requests (yuan to fen, usage errors for bad
 * input), the reports an operator reads, and exit codes.
 * Method: plain function calls on literal inputs; no database, no process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { DomainError } from './kernel/errors.ts';
import type { Account, ReconcileReport, VerifyReport } from './ledger/index.ts';
import {
  UsageError,
  accountInputFromOptions,
  exitCodeFor,
  formatAccount,
  formatReconcileReport,
  formatStatement,
  formatTable,
  formatTransferResult,
  formatVerifyProgress,
  formatVerifyReport,
  parseIntegerOption,
  parsePostmasterPid,
  parseSeqOption,
  redactUrl,
  resolutionRequestFromOptions,
  toJson,
  transferRequestFromOptions,
} from './cli-model.ts';

const transferOptions = {
  id: 't-1',
  from: 'a',
  to: 'b',
  amount: '12.34',
  kind: 'p2p',
  currency: 'CNY',
};

describe('arguments to requests', () => {
  test('a transfer carries fen parsed from yuan', () => {
    assert.deepEqual(transferRequestFromOptions(transferOptions), {
      id: 't-1',
      type: 'posted',
      debitAccountId: 'a',
      creditAccountId: 'b',
      amountMinor: 1234n,
      currency: 'CNY',
      kind: 'p2p',
    });
    const hold = transferRequestFromOptions({
      ...transferOptions,
      amount: '5',
      pending: true,
      timeout: '60',
    });
    assert.equal(hold.type, 'pending');
    assert.equal(hold.amountMinor, 500n);
    assert.equal(hold.timeoutSeconds, 60);
  });

  test('bad amounts, currencies and timeouts are usage errors', () => {
    for (const amount of [
      '1.234',
      '1e3',
      '12,34',
      ' 1',
      '1 ',
      '-1',
      '',
      '0x10',
      '.5',
      '12345678901234567',
    ]) {
      assert.throws(
        () => transferRequestFromOptions({ ...transferOptions, amount }),
        UsageError,
        amount,
      );
    }
    assert.throws(
      () => transferRequestFromOptions({ ...transferOptions, currency: 'USD' }),
      /--currency/,
    );
    assert.throws(
      () => transferRequestFromOptions({ ...transferOptions, timeout: '60' }),
      /--pending/,
    );
    assert.throws(
      () => transferRequestFromOptions({ ...transferOptions, pending: true, timeout: '1.5' }),
      /--timeout/,
    );
    assert.throws(
      () => transferRequestFromOptions({ ...transferOptions, pending: true, timeout: '0' }),
      /--timeout/,
    );
  });

  test('post and void name the hold; only post takes an amount', () => {
    assert.deepEqual(resolutionRequestFromOptions('post', 'h-1', { id: 'p-1', amount: '1.00' }), {
      id: 'p-1',
      type: 'post',
      pendingId: 'h-1',
      amountMinor: 100n,
    });
    assert.deepEqual(resolutionRequestFromOptions('void', 'h-1', { id: 'v-1' }), {
      id: 'v-1',
      type: 'void',
      pendingId: 'h-1',
    });
    assert.throws(
      () => resolutionRequestFromOptions('void', 'h-1', { id: 'v-1', amount: '1' }),
      UsageError,
    );
  });

  test('account create maps --no-overdraft, the limit in yuan and shards', () => {
    assert.deepEqual(
      accountInputFromOptions({ currency: 'CNY', code: 'system.bank', overdraft: true }),
      {
        currency: 'CNY',
        code: 'system.bank',
        noOverdraft: false,
      },
    );
    assert.deepEqual(
      accountInputFromOptions({
        currency: 'CNY',
        code: 'user.wallet',
        overdraft: false,
        overdraftLimit: '1000',
        owner: 'usr_1',
        id: 'w',
      }),
      {
        currency: 'CNY',
        code: 'user.wallet',
        noOverdraft: true,
        overdraftLimitMinor: 100_000n,
        ownerId: 'usr_1',
        id: 'w',
      },
    );
    assert.equal(
      accountInputFromOptions({ currency: 'CNY', code: 'c', overdraft: true, shards: '16' })
        .shardCount,
      16,
    );
    assert.throws(
      () =>
        accountInputFromOptions({
          currency: 'CNY',
          code: 'c',
          overdraft: true,
          overdraftLimit: '1',
        }),
      /--no-overdraft/,
    );
    assert.throws(
      () => accountInputFromOptions({ currency: 'CNY', code: 'c', overdraft: true, shards: '257' }),
      /--shards/,
    );
  });

  test('integers and seqs', () => {
    assert.equal(parseIntegerOption('--limit', '20', 1, 200), 20);
    for (const text of ['0', '201', '-1', '1.0', '1e2', '', ' 5', '99999999999999999']) {
      assert.throws(() => parseIntegerOption('--limit', text, 1, 200), /--limit/, text);
    }
    assert.equal(parseSeqOption('--cursor', '9223372036854775807'), 9_223_372_036_854_775_807n);
    for (const text of ['0', '9223372036854775808', '01', 'x']) {
      assert.throws(() => parseSeqOption('--cursor', text), /--cursor/, text);
    }
  });

  test('postmaster.pid: line 1 is the pid, line 4 the port', () => {
    const text = '4242\n/data/pg\n1700000000\n54321\n/tmp\n127.0.0.1\n  1234 5678\nready   \n';
    assert.deepEqual(parsePostmasterPid(text), { pid: 4242, port: 54321 });
    assert.equal(parsePostmasterPid('4242\n/data/pg\n'), undefined);
    assert.equal(parsePostmasterPid(''), undefined);
  });
});

const account: Account = {
  id: 'acct_1',
  currency: 'CNY',
  code: 'user.wallet',
  ownerId: null,
  noOverdraft: true,
  overdraftLimitMinor: 0n,
  shardCount: 1,
  debitsPendingMinor: 300n,
  debitsPostedMinor: 5n,
  creditsPendingMinor: 0n,
  creditsPostedMinor: 1239n,
  balanceMinor: 1234n,
  availableMinor: 934n,
  metadata: {},
  createdAt: new Date(Date.UTC(2026, 0, 1)),
};

describe('reports', () => {
  test('an account shows yuan', () => {
    const text = formatAccount(account);
    assert.match(text, /balance\s+12\.34 CNY/);
    assert.match(text, /available\s+9\.34 CNY/);
    assert.match(text, /overdraft\s+not allowed/);
    assert.match(
      formatAccount({ ...account, overdraftLimitMinor: 100_000n }),
      /overdraft\s+up to 1000\.00/,
    );
  });

  test('reconcile lists sums and every problem, and says OK or FAILED', () => {
    const healthy: ReconcileReport = {
      ok: true,
      accounts: 3,
      transfers: 9,
      currencies: [
        {
          currency: 'CNY',
          postedSumMinor: 0n,
          pendingDebitsMinor: 500n,
          pendingCreditsMinor: 500n,
        },
      ],
      problems: [],
    };
    const ok = formatReconcileReport(healthy);
    assert.match(ok, /CNY\s+0\.00\s+5\.00\s+5\.00/);
    assert.match(ok, /reconcile OK/);
    const broken = formatReconcileReport({
      ...healthy,
      ok: false,
      problems: [
        { check: 'currency_sums_to_zero', subject: 'CNY', expected: '0', actual: '1' },
        {
          check: 'book_equals_entries',
          subject: 'acct_9',
          expected: 'debits 0 credits 5',
          actual: 'debits 0 credits 6 last balance 5',
        },
      ],
    });
    assert.match(broken, /currency_sums_to_zero\s+CNY\s+0\s+1/);
    assert.match(broken, /book_equals_entries\s+acct_9\s+debits 0 credits 5\s+debits 0 credits 6/);
    assert.match(broken, /reconcile FAILED: 2 problems/);
  });

  test('JSON carries bigints as digit strings', () => {
    assert.equal(toJson({ a: 12n, b: [-1n] }), '{\n  "a": "12",\n  "b": [\n    "-1"\n  ]\n}');
  });

  test('verify names the first broken link', () => {
    const ok: VerifyReport = { ok: true, checked: 10, headSeq: 10n, brokenAt: null };
    assert.match(
      formatVerifyReport(ok, 1500),
      /chain OK: 10 links verified up to head seq 10 in 1\.5 s/,
    );
    const broken = formatVerifyReport(
      {
        ok: false,
        checked: 4,
        headSeq: 10n,
        brokenAt: { seq: 5n, transferId: 't-5', reason: 'stored hash differs' },
      },
      10,
    );
    assert.match(broken, /chain BROKEN at seq 5, transfer t-5: stored hash differs/);
    assert.equal(formatVerifyProgress(5000, 10_000n), 'verify: 5000 of 10000 links (50%)');
    assert.equal(formatVerifyProgress(0, 0n), 'verify: 0 of 0 links (100%)');
  });

  test('a statement signs amounts by side and points to the next page', () => {
    const line = {
      seq: 7n,
      transferId: 't-7',
      kind: 'p2p',
      type: 'posted',
      side: 'D' as const,
      amountMinor: 250n,
      balanceAfterMinor: -250n,
      shardNo: null,
      counterpartyAccountId: 'acct_2',
      metadata: {},
      createdAt: new Date(Date.UTC(2026, 0, 1)),
    };
    const text = formatStatement('acct_1', {
      lines: [line, { ...line, seq: 6n, side: 'C' }],
      nextBeforeSeq: 6n,
    });
    assert.match(text, /7\s+\S+\s+t-7\s+posted\s+p2p\s+-2\.50\s+-2\.50\s+acct_2/);
    assert.match(text, /6\s+\S+\s+t-7\s+posted\s+p2p\s+\+2\.50/);
    assert.match(text, /--cursor 6/);
    assert.match(
      formatStatement('acct_1', { lines: [], nextBeforeSeq: null }),
      /no posted movements[\s\S]*end of statement/,
    );
  });

  test('transfer results', () => {
    const failed = formatTransferResult({
      id: 't',
      status: 'failed',
      error: 'ledger.insufficient_funds',
      detail: 'account a has insufficient funds',
    });
    assert.equal(
      failed,
      'transfer t failed: ledger.insufficient_funds: account a has insufficient funds',
    );
    const created = formatTransferResult({
      id: 't',
      status: 'created',
      transfer: {
        seq: 3n,
        id: 't',
        type: 'pending',
        debitAccountId: 'a',
        creditAccountId: 'b',
        debitBookId: 'a',
        creditBookId: 'b',
        amountMinor: 1234n,
        currency: 'CNY',
        kind: 'p2p',
        pendingId: null,
        timeoutAtMs: Date.UTC(2026, 0, 1),
        groupId: null,
        metadata: {},
        createdAtMs: Date.UTC(2025, 11, 31),
      },
    });
    assert.match(
      created,
      /transfer t created: seq 3\n {2}pending 12\.34 CNY from a to b, kind p2p\n {2}expires at 2026-01-01T00:00:00\.000Z/,
    );
  });

  test('tables align, amounts to the right', () => {
    assert.equal(
      formatTable(
        ['a', 'amount'],
        [
          ['xyz', '1.00'],
          ['q', '10.00'],
        ],
        [1],
      ),
      'a    amount\n---  ------\nxyz    1.00\nq     10.00',
    );
  });

  test('URLs in messages hide the password', () => {
    assert.equal(
      redactUrl('postgres://postgres:s3cret@127.0.0.1:5432/db'),
      'postgres://postgres:***@127.0.0.1:5432/db',
    );
    assert.doesNotMatch(redactUrl('not a url s3cret'), /s3cret/);
  });
});

describe('exit codes', () => {
  test('0 ok, 1 failure, 2 usage', () => {
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '')), 0);
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownCommand', '')), 2);
    assert.equal(exitCodeFor(new UsageError('bad')), 2);
    assert.equal(exitCodeFor(new DomainError('money.invalid_amount')), 2);
    assert.equal(exitCodeFor(new DomainError('request.not_found')), 1);
    assert.equal(exitCodeFor(new Error('connection refused')), 1);
  });
});
