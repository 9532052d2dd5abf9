import { createHash } from 'node:crypto';
import type { Random } from '../kernel/random.ts';

/**
 * The open platform's pure rules: amounts as Alipay writes them, GMT+8 times, our identifiers,
 * the v2 timestamp window, and the result codes (../shared/ref/alipay-protocol.md §2.5, §3).
 */

/** "88.88" ⇄ 8888n: strings (or JSON numbers) of yuan with at most 2 decimals, 0.01 – 100,000,000.00. */
export function parseAmount(value: unknown): bigint | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$/.test(text)) return undefined;
  const [whole = '0', fraction = ''] = text.split('.');
  const minor = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return minor >= 1n && minor <= 10_000_000_000n ? minor : undefined;
}

export function formatAmount(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${(abs / 100n).toString()}.${(abs % 100n).toString().padStart(2, '0')}`;
}

const gmt8Ms = 8 * 3_600_000;

/** `yyyy-MM-dd HH:mm:ss` in GMT+8. */
export function gmt8(ms: number): string {
  return new Date(ms + gmt8Ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** The last timestamp parsed: callers within one second send the same text. */
let lastParsed: { readonly text: string; readonly ms: number | undefined } = { text: '', ms: undefined };

/** Parses `yyyy-MM-dd HH:mm:ss` as GMT+8 wall time (undefined when malformed). */
export function parseGmt8(text: string): number | undefined {
  if (text === lastParsed.text) return lastParsed.ms;
  const ms = parseGmt8Uncached(text);
  lastParsed = { text, ms };
  return ms;
}

function parseGmt8Uncached(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const ms = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0) - gmt8Ms;
  return Number.isNaN(ms) || gmt8(ms) !== text ? undefined : ms;
}

/**
 * The v2 timestamp window [ours]: the SDK stamps the client's local wall time with no zone, so a
 * client on UTC sends UTC wall time. A timestamp is accepted when it is within 5 minutes of now
 * as read in GMT+8 — or in any real time zone (UTC−12 to UTC+14, in 15-minute steps), so a server
 * not on Asia/Shanghai works unchanged. Replays inside a window are answered by the merchant ids'
 * idempotency, never by paying twice.
 */
export const timestampWindowMs = 5 * 60_000;
export function timestampAccepted(sentMs: number, nowMs: number): boolean {
  const delta = sentMs - nowMs;
  for (let offset = -20 * 3_600_000; offset <= 6 * 3_600_000; offset += 15 * 60_000) if (Math.abs(delta - offset) <= timestampWindowMs) return true;
  return false;
}

/** Ids merchants supply: up to 64 letters, digits and underscores. */
export const merchantIdPattern = /^[A-Za-z0-9_]{1,64}$/;

/** A trade number: the GMT+8 date and 20 random digits (28 digits, as Alipay's look). */
export function newTradeNo(nowMs: number, random: Random): string {
  let digits = '';
  while (digits.length < 20) digits += String(random.int(0, 1_000_000_000)).padStart(9, '0');
  return `${gmt8(nowMs).slice(0, 10).replaceAll('-', '')}${digits.slice(0, 20)}`;
}

/** A user's stable Alipay-style id: 2088 and 12 digits from a hash of our user id. */
export function buyerId(userId: string): string {
  const n = createHash('sha256').update(userId).digest().readBigUInt64BE(0) % 1_000_000_000_000n;
  return `2088${n.toString().padStart(12, '0')}`;
}

export function maskLogon(mobile: string): string {
  return `${mobile.slice(0, 3)}****${mobile.slice(-4)}`;
}

/** A new app id: 2021 and 12 random digits. */
export function newAppId(random: Random): string {
  return `2021${String(random.int(0, 1_000_000)).padStart(6, '0')}${String(random.int(0, 1_000_000)).padStart(6, '0')}`;
}

export const resultMessages: Record<string, string> = {
  '10000': 'Success',
  '10003': 'Waiting for the buyer to pay',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
  '40006': 'Insufficient Permissions',
};

/** A protocol or business failure, answered in the protocol's own form (never an HTTP error in v2). */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    readonly subCode: string,
    readonly subMsg: string,
    readonly echo: Readonly<Record<string, unknown>> = {},
    /** v3: the HTTP status this failure answers with. */
    readonly httpStatus = 400,
  ) {
    super(`${code} ${subCode}: ${subMsg}`);
  }
}

export function content(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Notification retries after the first attempt, as Alipay's: 4m, 10m, 10m, 1h, 2h, 6h, 15h. */
export const notifyScheduleMs = [4, 10, 10, 60, 120, 360, 900].map((minutes) => minutes * 60_000);
