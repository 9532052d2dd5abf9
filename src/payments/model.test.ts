/**
 * Goal: payments' pure rules — the Asia/Shanghai calendar, which daily limit a payment breaks
 * first, bill directions, ledger ids derived from the request, and bill cursors.
 * Method: plain unit tests, no I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  billDirection,
  decodeBillCursor,
  encodeBillCursor,
  isLimited,
  ledgerTransferId,
  limitBreach,
  monthRange,
  normalizeMemo,
  requestFingerprint,
  shanghaiDay,
  shanghaiMonth,
  type DaySums,
  type PaymentLimits,
} from './model.ts';

const limits: PaymentLimits = {
  topupDailyMaxMinor: 5_000_000n,
  withdrawDailyMaxMinor: 5_000_000n,
  unverifiedDailySendMaxMinor: 100_000n,
};
const none: DaySums = { topupMinor: 0n, withdrawMinor: 0n, p2pMinor: 0n, shopMinor: 0n, redpacketMinor: 0n };

test('a Shanghai day starts at 16:00 UTC the day before', () => {
  assert.equal(shanghaiDay(Date.UTC(2026, 0, 31, 15, 59, 59, 999)), '2026-01-31');
  assert.equal(shanghaiDay(Date.UTC(2026, 0, 31, 16, 0)), '2026-02-01');
  assert.equal(shanghaiMonth(Date.UTC(2026, 11, 31, 16, 0)), '2027-01');
  const january = monthRange('2026-01');
  assert.equal(january.start.toISOString(), '2025-12-31T16:00:00.000Z');
  assert.equal(january.end.toISOString(), '2026-01-31T16:00:00.000Z');
  assert.equal(monthRange('2026-12').end.toISOString(), '2026-12-31T16:00:00.000Z');
});

test("limits: the kind's own limit first, then the unverified send limit over transfers and withdrawals", () => {
  const breach = (
    kind: 'topup' | 'withdraw' | 'p2p',
    amountMinor: bigint,
    sums: DaySums,
    realNameVerified = false,
  ) => limitBreach({ kind, amountMinor, sums, realNameVerified, limits })?.code;
  assert.equal(breach('topup', 5_000_000n, none), undefined);
  assert.equal(
    breach('topup', 1n, { ...none, topupMinor: 5_000_000n }),
    'payments.topup_daily_limit_exceeded',
  );
  // Top-ups are not sending: an unverified user may top up the full ¥50,000.
  assert.equal(breach('topup', 1n, { ...none, p2pMinor: 100_000n }), undefined);
  assert.equal(breach('p2p', 100_000n, none), undefined);
  assert.equal(
    breach('p2p', 1n, { ...none, withdrawMinor: 60_000n, p2pMinor: 40_000n }),
    'payments.unverified_daily_limit_exceeded',
  );
  assert.equal(
    breach('withdraw', 1n, { ...none, p2pMinor: 100_000n }),
    'payments.unverified_daily_limit_exceeded',
  );
  assert.equal(
    breach('withdraw', 1n, { ...none, withdrawMinor: 5_000_000n }),
    'payments.withdraw_daily_limit_exceeded',
  );
  assert.equal(breach('p2p', 9_000_000n, none, true), undefined);
  assert.equal(breach('withdraw', 4_000_000n, { ...none, p2pMinor: 9_000_000n }, true), undefined);
  assert.deepEqual(
    [
      isLimited('p2p', true),
      isLimited('p2p', false),
      isLimited('topup', true),
      isLimited('withdraw', true),
    ],
    [false, true, true, true],
  );
});

test('a transfer is an expense to its payer and an income to its payee; card and shop-account moves are neutral', () => {
  assert.deepEqual(
    [
      billDirection('p2p', 'payer'),
      billDirection('p2p', 'payee'),
      billDirection('topup', 'payer'),
      billDirection('withdraw', 'payer'),
      billDirection('shop', 'payer'),
      billDirection('shop', 'payee'),
      billDirection('refund', 'payer'),
      billDirection('refund', 'payee'),
    ],
    ['expense', 'income', 'neutral', 'neutral', 'expense', 'neutral', 'neutral', 'income'],
  );
});

test("the ledger id depends only on the request, and fits the ledger's id alphabet", () => {
  const request = { userId: 'usr_1', kind: 'p2p' as const, requestKey: 'key/with+odd=chars~' };
  assert.equal(ledgerTransferId(request), ledgerTransferId({ ...request }));
  assert.notEqual(ledgerTransferId(request), ledgerTransferId({ ...request, kind: 'withdraw' }));
  assert.notEqual(ledgerTransferId(request), ledgerTransferId({ ...request, userId: 'usr_2' }));
  assert.match(ledgerTransferId(request), /^pay:[0-9a-f]{48}$/);
});

test('fingerprints tell payments apart; memos are trimmed', () => {
  const base = { kind: 'p2p' as const, counterpartyId: 'usr_1', amountMinor: 100n, memo: null };
  assert.equal(requestFingerprint(base), requestFingerprint({ ...base }));
  assert.notEqual(requestFingerprint(base), requestFingerprint({ ...base, amountMinor: 101n }));
  assert.notEqual(requestFingerprint(base), requestFingerprint({ ...base, memo: 'x' }));
  assert.deepEqual(
    [normalizeMemo(undefined), normalizeMemo('   '), normalizeMemo(' 房租 ')],
    [null, null, '房租'],
  );
});

test('bill cursors round-trip and refuse anything else', () => {
  const createdAt = new Date(Date.UTC(2026, 0, 15, 2));
  const paymentId = 'pay_019bbf61-8d00-756f-84a1-d277bfc7926c';
  assert.deepEqual(decodeBillCursor(encodeBillCursor(createdAt, paymentId)), {
    createdAt,
    paymentId,
  });
  for (const bad of [
    '',
    'abc',
    Buffer.from('12.usr_x').toString('base64url'),
    Buffer.from(`x.${paymentId}`).toString('base64url'),
  ]) {
    assert.equal(decodeBillCursor(bad), undefined, bad);
  }
});
