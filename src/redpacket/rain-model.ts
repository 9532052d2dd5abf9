import type { Random } from '../kernel/random.ts';
import { shuffle, splitLucky } from './model.ts';

/**
 * The hourly rain's pure rules: how a pool is cut into prizes, when each prize is released, and
 * when each user may start tapping. No I/O.
 */

export const rainModes = ['line_cut', 'double_mean'] as const;
export type RainMode = (typeof rainModes)[number];

/** Taps per second per user before 429. */
export const tapRatePerSecondDefault = 10;
export const rainPrizesMax = 1_000_000;
export const rainDurationMaxMs = 3600_000;
export const staggerMsDefault = 3000;
export const fissionSharesDefault = 5;

/**
 * Line-cutting (切线法): count − 1 distinct cut points drawn uniformly in (0, pool) cut the line
 * of `pool` fen into `count` pieces, each at least 1 fen. Every piece has the same expected size,
 * with the spread rain-style jackpots want (a few large prizes, many small). Shuffled after.
 */
export function splitLineCut(poolMinor: bigint, count: number, random: Random): bigint[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('a rain has at least one prize');
  if (poolMinor < BigInt(count)) throw new RangeError('every prize is at least 1 fen');
  if (poolMinor > 2n ** 47n) throw new RangeError('pool too large');
  const line = Number(poolMinor);
  const cuts = new Set<number>();
  // Few pieces in a long line: draw cut points; many: draw the points to keep (the complement).
  if (count - 1 <= (line - 1) / 2) {
    while (cuts.size < count - 1) cuts.add(random.int(1, line));
  } else {
    const keep = new Set<number>();
    while (keep.size < line - 1 - (count - 1)) keep.add(random.int(1, line));
    for (let point = 1; point < line; point++) if (!keep.has(point)) cuts.add(point);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const prizes: bigint[] = [];
  let previous = 0;
  for (const point of [...points, line]) {
    prizes.push(BigInt(point - previous));
    previous = point;
  }
  return shuffle(prizes, random);
}

export function splitRain(mode: RainMode, poolMinor: bigint, count: number, random: Random): bigint[] {
  return mode === 'line_cut' ? splitLineCut(poolMinor, count, random) : splitLucky(poolMinor, count, random);
}

/** Prize `seq` of `count` is released this long after the start: evenly over the window. */
export function releaseOffsetMs(seq: number, count: number, durationMs: number): number {
  return Math.floor((seq * durationMs) / count);
}

/** A user's own start inside the stagger window: FNV-1a of (rain, user), so it differs per rain. */
export function userStartOffsetMs(rainId: string, userId: string, staggerMs: number): number {
  if (staggerMs <= 0) return 0;
  const text = `${rainId}\n${userId}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % staggerMs;
}

export type RainProblem = { readonly code: 'rain.invalid'; readonly detail: string };

/** What a rain may be when scheduled. */
export function rainProblem(input: {
  readonly poolMinor: bigint;
  readonly prizeCount: number;
  readonly startsAtMs: number;
  readonly durationMs: number;
  readonly nowMs: number;
  readonly perUserWinsMax: number;
  readonly perUserMinorMax: bigint;
  readonly fissionShares: number;
  readonly fissionMinor: bigint;
}): RainProblem | undefined {
  const fail = (detail: string): RainProblem => ({ code: 'rain.invalid', detail });
  if (input.prizeCount < 1 || input.prizeCount > rainPrizesMax) return fail(`a rain has 1 to ${String(rainPrizesMax)} prizes`);
  if (input.poolMinor < BigInt(input.prizeCount)) return fail('every prize is at least 1 fen: the pool must be at least the prize count in fen');
  if (input.durationMs < 1000 || input.durationMs > rainDurationMaxMs) return fail('a rain lasts 1 second to 1 hour');
  if (input.startsAtMs < input.nowMs - 1000) return fail('a rain starts now or later');
  if (input.perUserWinsMax < 1) return fail('each user may win at least once');
  if (input.perUserMinorMax < 1n) return fail('each user may win at least 1 fen');
  if ((input.fissionShares === 0) !== (input.fissionMinor === 0n)) return fail('fission packets need both shares and an amount, or neither');
  if (input.fissionShares > 0 && input.fissionMinor < BigInt(input.fissionShares)) return fail('each fission share is at least 1 fen');
  return undefined;
}
