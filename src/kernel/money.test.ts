/**
 * Goal: money never passes through a float — the string parsers accept exactly the documented
 * forms, formatMinor round-trips with parseMajor, and allocate splits without losing a fen.
 * Method: table tests for the edges, fast-check properties for round trips and allocation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AssertionError } from './assert.ts';
import { DomainError } from './errors.ts';
import {
  allocate,
  amountMinorMax,
  checkedAdd,
  formatMinor,
  int64Max,
  int64Min,
  parseCurrency,
  parseMajor,
  parseMinor,
} from './money.ts';

function invalidAmount(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'money.invalid_amount';
}

describe('parseMinor', () => {
  test('accepts 1 to 18 digits without a leading zero', () => {
    assert.equal(parseMinor('0'), 0n);
    assert.equal(parseMinor('1234'), 1234n);
    assert.equal(parseMinor('999999999999999999'), amountMinorMax);
  });

  test('rejects signs, points, exponents, whitespace, leading zeros and 19 digits', () => {
    for (const text of [
      '',
      '-1',
      '+1',
      '1.0',
      '1e3',
      ' 1',
      '1 ',
      '01',
      '00',
      '0x1f',
      '1_000',
      '１２',
      '1000000000000000000',
    ]) {
      assert.throws(() => parseMinor(text), invalidAmount, JSON.stringify(text));
    }
  });

  test('rejects numbers and bigints passed where a string belongs', () => {
    for (const value of [1234, 12.5, 1234n, null, undefined]) {
      assert.throws(() => parseMinor(value as unknown as string), invalidAmount, String(value));
    }
  });
});

describe('parseMajor', () => {
  test('reads yuan with up to two decimals into fen', () => {
    assert.equal(parseMajor('12.34'), 1234n);
    assert.equal(parseMajor('12.3'), 1230n);
    assert.equal(parseMajor('12'), 1200n);
    assert.equal(parseMajor('0.05'), 5n);
    assert.equal(parseMajor('0'), 0n);
    assert.equal(parseMajor('9999999999999999.99'), amountMinorMax);
  });

  test('rejects floats passed as numbers', () => {
    for (const value of [12.34, 0.1 + 0.2, 12, Number.NaN]) {
      assert.throws(() => parseMajor(value as unknown as string), invalidAmount, String(value));
    }
  });

  test('rejects more than two decimals, exponents, whitespace and odd forms', () => {
    for (const text of [
      '1.234',
      '0.001',
      '1e3',
      '1E2',
      '1.5e1',
      ' 1',
      '1 ',
      '1\n',
      '1,00',
      '.5',
      '5.',
      '+1',
      '01',
      '00.50',
      '1.2.3',
      '',
      '¥1',
      'Infinity',
      'NaN',
    ]) {
      assert.throws(() => parseMajor(text), invalidAmount, JSON.stringify(text));
    }
  });

  test('rejects negatives unless allowed', () => {
    assert.throws(() => parseMajor('-1.00'), invalidAmount);
    assert.equal(parseMajor('-1.00', { allowNegative: true }), -100n);
    assert.equal(parseMajor('-0.05', { allowNegative: true }), -5n);
    assert.throws(() => parseMajor('--1', { allowNegative: true }), invalidAmount);
  });

  test('rejects anything beyond 18 digits of fen', () => {
    for (const text of [
      '10000000000000000',
      '10000000000000000.00',
      '99999999999999999999',
      '1' + '0'.repeat(40),
    ]) {
      assert.throws(() => parseMajor(text), invalidAmount, text);
    }
  });
});

describe('formatMinor', () => {
  test('always two decimals, with a sign for negatives', () => {
    assert.equal(formatMinor(1234n), '12.34');
    assert.equal(formatMinor(5n), '0.05');
    assert.equal(formatMinor(0n), '0.00');
    assert.equal(formatMinor(100n), '1.00');
    assert.equal(formatMinor(-5n), '-0.05');
    assert.equal(formatMinor(-123456n), '-1234.56');
    assert.equal(formatMinor(amountMinorMax), '9999999999999999.99');
  });

  test('round-trips with parseMajor, negatives included', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -amountMinorMax, max: amountMinorMax }), (amountMinor) => {
        assert.equal(parseMajor(formatMinor(amountMinor), { allowNegative: true }), amountMinor);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('allocate', () => {
  test('the first total % parts shares get the extra fen', () => {
    assert.deepEqual(allocate(10n, 3), [4n, 3n, 3n]);
    assert.deepEqual(allocate(11n, 3), [4n, 4n, 3n]);
    assert.deepEqual(allocate(9n, 3), [3n, 3n, 3n]);
    assert.deepEqual(allocate(2n, 5), [1n, 1n, 0n, 0n, 0n]);
    assert.deepEqual(allocate(0n, 2), [0n, 0n]);
    assert.deepEqual(allocate(amountMinorMax, 1), [amountMinorMax]);
  });

  test('sums to the total, shares differ by at most one, larger shares first', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: amountMinorMax }),
        fc.integer({ min: 1, max: 500 }),
        (total, parts) => {
          const shares = allocate(total, parts);
          assert.equal(shares.length, parts);
          assert.equal(
            shares.reduce((sum, share) => sum + share, 0n),
            total,
          );
          const base = total / BigInt(parts);
          const extra = Number(total % BigInt(parts));
          shares.forEach((share, index) => {
            assert.equal(share, index < extra ? base + 1n : base);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('a negative total or a non-positive part count is a bug', () => {
    assert.throws(() => allocate(-1n, 2), AssertionError);
    assert.throws(() => allocate(10n, 0), AssertionError);
    assert.throws(() => allocate(10n, 1.5), AssertionError);
  });
});

describe('currency and totals', () => {
  test('only CNY is supported', () => {
    assert.equal(parseCurrency('CNY'), 'CNY');
    assert.throws(
      () => parseCurrency('USD'),
      (error) => error instanceof DomainError && error.code === 'money.unsupported_currency',
    );
  });

  test('checkedAdd refuses to leave PostgreSQL bigint', () => {
    assert.equal(checkedAdd(1n, 2n), 3n);
    assert.equal(checkedAdd(int64Max, 1n), undefined);
    assert.equal(checkedAdd(int64Min, -1n), undefined);
    assert.equal(checkedAdd(int64Max, -1n), int64Max - 1n);
  });
});
