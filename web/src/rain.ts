import { api, ApiError } from './api.ts';
import { problemText, type MessageKey } from './i18n.tsx';
import type { Packet } from './redpacket.ts';

/**
 * The hourly rain (整点红包 / 咻一咻) as the web app reads it (GET/POST /v1/rains…): the rains
 * running now or starting within a day, taps, and the fission packets winners hand to friends.
 * Money is a digit string of fen.
 */
export type RainMode = 'line_cut' | 'double_mean';
export type RainStatus = 'scheduled' | 'closed' | 'refunded';

export interface Rain {
  readonly id: string;
  readonly name: string;
  readonly mode: RainMode;
  readonly poolMinor: string;
  readonly prizeCount: number;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly staggerMs: number;
  readonly perUserWinsMax: number;
  readonly perUserMinorMax: string;
  readonly fissionShares: number;
  readonly fissionMinor: string;
  readonly splitSha256: string;
  readonly status: RainStatus;
  readonly refundMinor: string | null;
}

export interface RainWin {
  readonly prizeSeq: number;
  readonly amountMinor: string;
  readonly wonAt: string;
  readonly settled: boolean;
}

/** A rain as one user sees it: their own start (the rain's plus a stagger) and what they won. */
export interface MyRain extends Rain {
  readonly myStartsAt: string;
  readonly myWins: readonly RainWin[];
}

/**
 * Taps go out at most this often: the server answers 429 over 10 a second per user, so a thumb
 * mashing the button is held to 8 and never punished.
 */
export const tapIntervalMinMs = 125;

export async function fetchCurrentRains(): Promise<readonly MyRain[]> {
  return (await api<{ rains: MyRain[] }>('GET', '/v1/rains/current')).rains;
}

export function fetchRain(id: string): Promise<MyRain> {
  return api<MyRain>('GET', `/v1/rains/${encodeURIComponent(id)}`);
}

/** What one tap came to; the quiet outcomes (too fast, not yet) are not errors to show. */
export type TapOutcome =
  | { readonly kind: 'won'; readonly amountMinor: string; readonly prizeSeq: number }
  | { readonly kind: 'lost'; readonly capped: boolean }
  | { readonly kind: 'too_fast' }
  | { readonly kind: 'not_started'; readonly startsAt: string | null }
  | { readonly kind: 'ended' }
  | { readonly kind: 'failed'; readonly problem: unknown };

interface TapResult {
  readonly won: boolean;
  readonly amountMinor: string;
  readonly prizeSeq: number | null;
  readonly capped: boolean;
}

export async function tapRain(id: string): Promise<TapOutcome> {
  try {
    const result = await api<TapResult>('POST', `/v1/rains/${encodeURIComponent(id)}/taps`);
    if (result.won && result.prizeSeq !== null) return { kind: 'won', amountMinor: result.amountMinor, prizeSeq: result.prizeSeq };
    return { kind: 'lost', capped: result.capped };
  } catch (caught) {
    if (!(caught instanceof ApiError)) return { kind: 'failed', problem: caught };
    switch (caught.problem.code) {
      case 'request.rate_limited':
        return { kind: 'too_fast' };
      case 'rain.not_started': {
        const startsAt = (caught.problem as { startsAt?: unknown }).startsAt;
        return { kind: 'not_started', startsAt: typeof startsAt === 'string' ? startsAt : null };
      }
      case 'rain.ended':
        return { kind: 'ended' };
      default:
        return { kind: 'failed', problem: caught };
    }
  }
}

/** Hands the fission packet of one prize to my friends; a second call answers the same packet. */
export function handFission(rainId: string, prizeSeq: number): Promise<Packet> {
  return api<Packet>('POST', `/v1/rains/${encodeURIComponent(rainId)}/fission`, { prizeSeq });
}

/** Where the page is in a rain for this user, by the clock: before my start, in the window, after. */
export type RainPhase = 'waiting' | 'running' | 'over';

export function rainPhase(rain: MyRain, nowMs: number): RainPhase {
  if (rain.status !== 'scheduled' || nowMs >= Date.parse(rain.endsAt)) return 'over';
  return nowMs < Date.parse(rain.myStartsAt) ? 'waiting' : 'running';
}

/** The rain to show when the route names none: the first running, else the next to start. */
export function pickRain(rains: readonly MyRain[], nowMs: number): MyRain | undefined {
  return rains.find((rain) => rainPhase(rain, nowMs) === 'running') ?? rains.find((rain) => rainPhase(rain, nowMs) === 'waiting');
}

/** Wins by prize, oldest first: the server's list and this page's taps, each prize once. */
export function mergeWins(known: readonly RainWin[], more: readonly RainWin[]): RainWin[] {
  const bySeq = new Map<number, RainWin>();
  for (const win of [...known, ...more]) {
    const seen = bySeq.get(win.prizeSeq);
    // The server's word on settlement wins over a tap's (never settled yet).
    bySeq.set(win.prizeSeq, seen === undefined || !seen.settled ? win : seen);
  }
  return [...bySeq.values()].sort((a, b) => a.wonAt.localeCompare(b.wonAt) || a.prizeSeq - b.prizeSeq);
}

export function sumMinor(wins: readonly { readonly amountMinor: string }[]): string {
  return wins.reduce((total, win) => total + BigInt(win.amountMinor), 0n).toString();
}

/** Seconds as 1:05 or 1:02:05, for a countdown. */
export function formatCountdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${String(hours)}:${String(minutes).padStart(2, '0')}:${rest}` : `${String(minutes)}:${rest}`;
}

const problemKeys: Readonly<Record<string, MessageKey>> = {
  'rain.not_found': 'rain_err_not_found',
  'rain.prize_not_found': 'rain_err_prize_not_found',
  'rain.no_fission': 'rain_err_no_fission',
  'rain.ended': 'rain_over',
  'request.rate_limited': 'rp_err_rate_limited',
  'ledger.insufficient_funds': 'rain_err_budget',
};

/** A rain problem in the app's language; codes it does not know show the server's detail. */
export function rainProblemText(t: (key: MessageKey) => string, caught: unknown): string {
  return problemText(t, caught, problemKeys);
}
