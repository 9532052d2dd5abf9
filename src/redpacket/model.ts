import { createHash } from 'node:crypto';
import { idPattern } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';

/**
 * Red packets' pure rules: how a packet is split into shares, the limits on what may be sent,
 * and what makes a packet's amounts auditable. No I/O.
 *
 * A packet is split when it is sent, not when it is grabbed: the shares are drawn in order by
 * the rule below, then shuffled, and stored. A grab takes any share still open. So what a
 * grabber gets does not depend on when they grab, the sum is exact by construction, and the
 * amounts can be audited before anyone grabs (`splitDigest`).
 */

export const packetModes = ['lucky', 'fixed'] as const;
export type PacketMode = (typeof packetModes)[number];

export const packetIdPattern = idPattern('rpk');

/** A share is at least 1 fen (¥0.01). */
export const shareMinMinor = 1n;
/** On average at most ¥200 a share, as wallets cap red packets. */
export const shareAverageMaxMinor = 20_000n;
/** Shares a packet may have unless the deployment allows more (`QIANBAO_REDPACKET_SHARES_MAX`). */
export const sharesMaxDefault = 100;
export const greetingLengthMax = 40;
export const greetingDefault = '恭喜发财，大吉大利';
export const fissionGreeting = '好运传递，一起抢红包';
/** An unclaimed rest goes back to the sender this long after sending. */
export const packetTtlMs = 24 * 3600_000;
/** A packet still funding after this long belongs to a request that died; the sweep resolves it. */
export const fundingStaleAfterMs = 5 * 60_000;

/**
 * The double-mean rule (二倍均值法): each draw is uniform between 1 fen and twice the average
 * still to hand out, and never so large that someone still to draw would get less than 1 fen;
 * the last share takes the rest. Every draw's expected value is the running average, so each
 * position's mean is total / count. Draws come from `random` (a CSPRNG in production).
 */
export function splitLucky(totalMinor: bigint, count: number, random: Random): bigint[] {
  assertSplittable(totalMinor, count);
  const shares: bigint[] = [];
  let rest = totalMinor;
  for (let left = count; left > 1; left--) {
    const leftBig = BigInt(left);
    const twiceMean = (rest * 2n) / leftBig;
    // Keep 1 fen for each of the others still to draw.
    const cap = rest - (leftBig - 1n) * shareMinMinor;
    const max = twiceMean < cap ? twiceMean : cap;
    const draw = max <= shareMinMinor ? shareMinMinor : uniformBigint(random, shareMinMinor, max);
    shares.push(draw);
    rest -= draw;
  }
  shares.push(rest);
  return shuffle(shares, random);
}

/** Equal shares: the total must divide evenly (the app asks for the amount of one share). */
export function splitFixed(totalMinor: bigint, count: number): bigint[] {
  assertSplittable(totalMinor, count);
  const share = totalMinor / BigInt(count);
  if (share * BigInt(count) !== totalMinor) throw new RangeError('a fixed packet divides evenly');
  return Array.from({ length: count }, () => share);
}

export function split(mode: PacketMode, totalMinor: bigint, count: number, random: Random): bigint[] {
  return mode === 'lucky' ? splitLucky(totalMinor, count, random) : splitFixed(totalMinor, count);
}

function assertSplittable(totalMinor: bigint, count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('a packet has at least one share');
  if (totalMinor < BigInt(count) * shareMinMinor) throw new RangeError('every share is at least 1 fen');
}

/** Uniform in [min, max], both inclusive; amounts of a packet fit a double comfortably. */
export function uniformBigint(random: Random, min: bigint, max: bigint): bigint {
  const span = max - min + 1n;
  // randomInt's range is below 2^48; a red packet's amounts are far below that.
  if (span > 2n ** 47n) throw new RangeError('span too large');
  return min + BigInt(random.int(0, Number(span)));
}

/** Fisher–Yates: pre-split amounts are handed out in a random order. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i + 1);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

/**
 * The sha256 of the shares in their stored order, shown with the packet: anyone holding the
 * list of amounts can check it was not changed after sending.
 */
export function splitDigest(shares: readonly bigint[]): string {
  return createHash('sha256').update(shares.map(String).join(',')).digest('hex');
}

export type SendProblem =
  | { readonly code: 'redpacket.too_many_shares'; readonly detail: string }
  | { readonly code: 'redpacket.share_too_small'; readonly detail: string }
  | { readonly code: 'redpacket.share_too_large'; readonly detail: string }
  | { readonly code: 'redpacket.fixed_not_divisible'; readonly detail: string }
  | { readonly code: 'redpacket.friend_packet_single_share'; readonly detail: string };

/** What a packet may be, before any target or money is looked at. */
export function sendProblem(input: {
  readonly mode: PacketMode;
  readonly amountMinor: bigint;
  readonly count: number;
  readonly toFriend: boolean;
  readonly sharesMax: number;
}): SendProblem | undefined {
  const { mode, amountMinor, count } = input;
  if (input.toFriend && count !== 1)
    return { code: 'redpacket.friend_packet_single_share', detail: 'a packet to one friend has exactly 1 share' };
  if (count > input.sharesMax)
    return { code: 'redpacket.too_many_shares', detail: `a packet has at most ${String(input.sharesMax)} shares` };
  const countBig = BigInt(count);
  if (amountMinor < countBig * shareMinMinor)
    return { code: 'redpacket.share_too_small', detail: `every share is at least ¥0.01: send at least ${String(countBig * shareMinMinor)} fen for ${String(count)} shares` };
  if (amountMinor > countBig * shareAverageMaxMinor)
    return { code: 'redpacket.share_too_large', detail: `a share is at most ¥200 on average: send at most ${String(countBig * shareAverageMaxMinor)} fen for ${String(count)} shares` };
  if (mode === 'fixed' && amountMinor % countBig !== 0n)
    return { code: 'redpacket.fixed_not_divisible', detail: `a fixed packet's amount is the share times the count; ${String(amountMinor)} fen does not divide into ${String(count)} equal shares` };
  return undefined;
}

/** 手气最佳: the largest share, the earliest grab among equals; only once every share is taken. */
export function bestLuck<T extends { readonly amountMinor: bigint; readonly grabbedAt: Date }>(grabs: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const grab of grabs) {
    if (best === undefined || grab.amountMinor > best.amountMinor || (grab.amountMinor === best.amountMinor && grab.grabbedAt < best.grabbedAt))
      best = grab;
  }
  return best;
}

/** The published rule, as the app shows it under "how amounts are decided". */
export const splitRule = {
  lucky:
    'Lucky packets are split when sent. Each share in turn is drawn uniformly at random (from a cryptographic source) between ¥0.01 and twice the average still to hand out, keeping ¥0.01 for everyone still to draw; the last share takes the rest. The shares are then shuffled, so every grab has the same expected amount (the total divided by the count), whenever it comes. The packet shows the sha256 of its shares in order, so the amounts can be checked.',
  fixed: 'Fixed packets give every share the same amount: the total divided by the count.',
  expiry: 'Shares not grabbed within 24 hours go back to the sender, once.',
} as const;
