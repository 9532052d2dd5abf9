import type { Redis } from 'ioredis';
import { drainLists, homeSubPool, keyTtlSeconds, loadScript, subPoolCount } from './redis-pool.ts';

/**
 * The rain's taps on Redis. A rain's prizes are dealt round-robin into sub-pools (hash-tagged
 * `rain:{<rain>:<k>}:…`, spread over Redis Cluster slots), each list in release order. A user taps
 * their home sub-pool only, where their wins are counted; one Lua script decides a tap: the head
 * prize if it is released and the user's caps allow it (popped, counted and recorded for
 * settlement), else nothing — a losing tap writes nothing anywhere.
 */

function keys(rainId: string, pool: number) {
  const tag = `rain:{${rainId}:${String(pool)}}`;
  return { prizes: `${tag}:prizes`, wins: `${tag}:wins`, settle: `${tag}:settle`, inflight: `${tag}:inflight`, loaded: `${tag}:loaded`, lock: `${tag}:sync` };
}


// KEYS: prizes, wins, settle. ARGV: user, now ms, wins cap, amount cap, ttl.
const tapScript = `
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {'lose', ''} end
local seq, amount, release = string.match(head, '^(%d+):(%d+):(%d+)$')
if tonumber(release) > tonumber(ARGV[2]) then return {'lose', ''} end
local n, total = 0, 0
local mine = redis.call('HGET', KEYS[2], ARGV[1])
if mine then
  local a, b = string.match(mine, '^(%d+):(%d+)$')
  n, total = tonumber(a), tonumber(b)
end
if n >= tonumber(ARGV[3]) then return {'capped', ''} end
if total + tonumber(amount) > tonumber(ARGV[4]) then return {'lose', ''} end
redis.call('LPOP', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], (n + 1) .. ':' .. (total + tonumber(amount)))
redis.call('RPUSH', KEYS[3], ARGV[1] .. ':' .. seq .. ':' .. amount .. ':' .. ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return {'win', seq .. ':' .. amount}`;

export interface TapResult {
  readonly state: 'win' | 'lose' | 'capped';
  readonly seq: number;
  readonly amountMinor: bigint;
}

export interface WinRecord {
  readonly userId: string;
  readonly seq: number;
  readonly amountMinor: bigint;
  readonly wonAtMs: number;
}

export class RainPool {
  constructor(
    private readonly redis: Redis,
    private readonly perPool?: number,
  ) {}

  private pools(prizeCount: number): number {
    return subPoolCount(prizeCount, this.perPool);
  }

  /** Deals the prizes (in seq order, with their release instants) into the sub-pools, once. */
  async load(rainId: string, prizes: readonly { readonly amountMinor: bigint; readonly releaseMs: number }[]): Promise<void> {
    await this.loadState(rainId, prizes.length, prizes.map((prize, seq) => ({ ...prize, seq })), []);
  }

  /**
   * Loads what PostgreSQL says of a rain: its open prizes, and each winner's count and sum so far
   * (written to their home sub-pool first, so their caps hold) — for a rain tapped on PostgreSQL
   * before Redis was configured, or whose Redis state was lost.
   */
  async loadState(
    rainId: string,
    prizeCount: number,
    open: readonly { readonly seq: number; readonly amountMinor: bigint; readonly releaseMs: number }[],
    winners: readonly { readonly userId: string; readonly wins: number; readonly minor: bigint }[],
  ): Promise<void> {
    const pools = this.pools(prizeCount);
    for (const winner of winners) {
      const home = keys(rainId, homeSubPool(winner.userId, pools));
      await this.redis.hset(home.wins, winner.userId, `${String(winner.wins)}:${String(winner.minor)}`);
      await this.redis.expire(home.wins, keyTtlSeconds);
    }
    await Promise.all(
      Array.from({ length: pools }, (_, pool) => {
        const k = keys(rainId, pool);
        const items = open.filter((prize) => prize.seq % pools === pool).map((prize) => `${String(prize.seq)}:${String(prize.amountMinor)}:${String(prize.releaseMs)}`);
        return this.redis.eval(loadScript, 2, k.prizes, k.loaded, String(keyTtlSeconds), ...items);
      }),
    );
  }

  async isLoaded(rainId: string, prizeCount: number): Promise<boolean> {
    const flags = await Promise.all(Array.from({ length: this.pools(prizeCount) }, (_, pool) => this.redis.exists(keys(rainId, pool).loaded)));
    return flags.every((flag) => flag === 1);
  }

  async tap(rainId: string, prizeCount: number, userId: string, nowMs: number, caps: { readonly wins: number; readonly minor: bigint }): Promise<TapResult> {
    const k = keys(rainId, homeSubPool(userId, this.pools(prizeCount)));
    const [state, value] = (await this.redis.eval(tapScript, 3, k.prizes, k.wins, k.settle, userId, String(nowMs), String(caps.wins), String(caps.minor), String(keyTtlSeconds))) as [string, string];
    if (state !== 'win') return { state: state === 'capped' ? 'capped' : 'lose', seq: -1, amountMinor: 0n };
    const [seq = '', amount = ''] = value.split(':');
    return { state: 'win', seq: Number(seq), amountMinor: BigInt(amount) };
  }

  /** Hands the rain's win records to `write` once (see `drainLists`). */
  async drain(rainId: string, prizeCount: number, write: (records: WinRecord[]) => Promise<void>): Promise<number> {
    const lists = Array.from({ length: this.pools(prizeCount) }, (_, pool) => keys(rainId, pool));
    return drainLists(this.redis, lists, async (items) => {
      await write(
        items.map((item) => {
          const [userId = '', seq = '', amount = '', at = ''] = item.split(':');
          return { userId, seq: Number(seq), amountMinor: BigInt(amount), wonAtMs: Number(at) };
        }),
      );
    });
  }

  /** No more taps win (the window is over): the prize lists are emptied. */
  async close(rainId: string, prizeCount: number): Promise<void> {
    await Promise.all(Array.from({ length: this.pools(prizeCount) }, (_, pool) => this.redis.del(keys(rainId, pool).prizes)));
  }

  /** Wins recorded in Redis, across the sub-pools: how many and how much. */
  async wonTotals(rainId: string, prizeCount: number): Promise<{ readonly count: number; readonly amountMinor: bigint }> {
    let count = 0;
    let amountMinor = 0n;
    for (let pool = 0; pool < this.pools(prizeCount); pool++) {
      for (const value of await this.redis.hvals(keys(rainId, pool).wins)) {
        const [n = '0', total = '0'] = value.split(':');
        count += Number(n);
        amountMinor += BigInt(total);
      }
    }
    return { count, amountMinor };
  }
}
