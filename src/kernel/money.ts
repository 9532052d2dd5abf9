import { assert } from './assert.ts';
import { DomainError, registerErrors } from './errors.ts';

/**
 * Money is an integer count of minor units (fen) in a `bigint`; never a float. The JSON API
 * carries minor units as digit strings (`"1234"`); yuan strings (`"12.34"`) appear only in the
 * UI and the Alipay adapter, through `parseMajor` and `formatMinor`.
 */
export const currencies = ['CNY'] as const;
export type Currency = (typeof currencies)[number];

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: Currency;
}

/** 18 digits fit in a signed 64-bit column with room for sums of a few hundred amounts. */
export const amountMinorMax = 999_999_999_999_999_999n;
/** PostgreSQL bigint bounds: totals must stay inside them. */
export const int64Max = 9_223_372_036_854_775_807n;
export const int64Min = -9_223_372_036_854_775_808n;

export const moneyErrors = registerErrors('money', {
  invalid_amount: { status: 400, title: 'The amount is not valid', retryable: false },
  unsupported_currency: { status: 400, title: 'The currency is not supported', retryable: false },
});

const minorPattern = /^(0|[1-9][0-9]{0,17})$/;
const majorPattern = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;

export function isCurrency(value: string): value is Currency {
  return (currencies as readonly string[]).includes(value);
}

export function parseCurrency(value: string): Currency {
  if (!isCurrency(value)) {
    throw new DomainError('money.unsupported_currency', { detail: `unsupported currency: ${value}` });
  }
  return value;
}

/** Parses a minor-unit digit string (`"1234"`), the JSON API's money form. */
export function parseMinor(text: string): bigint {
  if (typeof text !== 'string' || !minorPattern.test(text)) {
    throw new DomainError('money.invalid_amount', {
      detail: 'amountMinor must be a string of 1 to 18 digits without sign, point or leading zero',
    });
  }
  return BigInt(text);
}

/**
 * Parses a yuan string (`"12.34"`, `"12.3"`, `"12"`) into fen. Rejects floats passed as numbers,
 * more than two decimals, exponents, whitespace and anything beyond `amountMinorMax`.
 */
export function parseMajor(text: string, options: { allowNegative?: boolean } = {}): bigint {
  if (typeof text !== 'string') {
    throw new DomainError('money.invalid_amount', { detail: 'an amount must be a string, not a number' });
  }
  const match = majorPattern.exec(text);
  if (match === null) {
    throw new DomainError('money.invalid_amount', {
      detail: `"${text.slice(0, 40)}" is not an amount in yuan with at most two decimals`,
    });
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (sign !== undefined && options.allowNegative !== true) {
    throw new DomainError('money.invalid_amount', { detail: 'the amount must not be negative' });
  }
  if (whole.length > 16) {
    throw new DomainError('money.invalid_amount', { detail: 'the amount is too large' });
  }
  const minor = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  if (minor > amountMinorMax) {
    throw new DomainError('money.invalid_amount', { detail: 'the amount is too large' });
  }
  return sign === undefined ? minor : -minor;
}

/** Formats fen as a yuan string with exactly two decimals: 1234n → "12.34", -5n → "-0.05". */
export function formatMinor(amountMinor: bigint): string {
  const negative = amountMinor < 0n;
  const magnitude = negative ? -amountMinor : amountMinor;
  const whole = magnitude / 100n;
  const fraction = (magnitude % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}

/**
 * Splits `total` into `parts` shares that differ by at most one minor unit and sum to `total`.
 * Remainder rule: the first `total % parts` shares get one extra fen.
 */
export function allocate(total: bigint, parts: number): bigint[] {
  assert(Number.isSafeInteger(parts) && parts > 0, 'parts must be a positive integer');
  assert(total >= 0n, 'total must not be negative');
  const count = BigInt(parts);
  const base = total / count;
  const remainder = total % count;
  const shares = Array.from({ length: parts }, (_, index) =>
    BigInt(index) < remainder ? base + 1n : base,
  );
  assert(
    shares.reduce((sum, share) => sum + share, 0n) === total,
    'allocation must sum to the total',
  );
  return shares;
}

/** Adds with a check that the result still fits PostgreSQL's bigint. */
export function checkedAdd(a: bigint, b: bigint): bigint | undefined {
  const sum = a + b;
  return sum > int64Max || sum < int64Min ? undefined : sum;
}
