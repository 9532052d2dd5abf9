import type { Redis } from 'ioredis';
import { DomainError } from '../kernel/errors.ts';

/**
 * The grab path on Redis (when REDIS_URL is set): a packet's pre-split shares live in Redis
 * lists, and a grab is one atomic Lua script — the duplicate check, the pop of the next share
 * (already shuffled when the packet was split) and the settlement record — so a stampede costs
 * no database write per grab. PostgreSQL stays the record: a syncer moves settlement records
 * into the shares table (`grabbed_by`), where the ledger settler pays them as on the PostgreSQL
 * path, and the (packet, grabber) unique index there is the last guard.
 *
 * A hot packet is split into sub-pools, each under its own hash tag (`rp:{<packet>:<k>}:…`), so
 * they spread over Redis Cluster slots. A user's home sub-pool (a hash of the user id) holds
 * their duplicate marker. When home is empty and others are not, the grab spills: home records
 * `spill:` first (atomically with finding it empty), then the other sub-pools are tried in a
 * fixed order, each of which remembers who spilled into it, so a retry after a crash finds the
 * same share instead of taking a second; home then records the share (or `none`).
 */

/**
 * Redis being away is the service being unavailable, not a bug: the user taps again (503, retryable).
 * Domain errors pass through.
 */
export async function redisCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError('server.unavailable', { detail: 'red packets are busy right now; try again in a moment' });
  }
}

export const subPoolSharesMax = 10_000;
export const subPoolsMax = 16;
/** Redis keys outlive the packet's 24 hours by a day, then go by themselves. */
export const keyTtlSeconds = 2 * 24 * 3600;
const syncBatchMax = 1000;
const syncLockMs = 30_000;
const lockWaitMs = 5;

export function subPoolCount(shareCount: number, perPool = subPoolSharesMax): number {
  return Math.max(1, Math.min(subPoolsMax, Math.ceil(shareCount / perPool)));
}

/** Which sub-pool is a user's home in a packet: FNV-1a of the user id. */
export function homeSubPool(userId: string, pools: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % pools;
}

function keys(packetId: string, pool: number) {
  const tag = `rp:{${packetId}:${String(pool)}}`;
  return {
    shares: `${tag}:shares`,
    grabbed: `${tag}:grabbed`,
    spilled: `${tag}:spilled`,
    settle: `${tag}:settle`,
    inflight: `${tag}:inflight`,
    loaded: `${tag}:loaded`,
    lock: `${tag}:sync`,
  };
}

/** KEYS: list, loaded flag. ARGV: ttl, items… Fills the list once (a second load changes nothing). */
export const loadScript = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 4000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 3999, #ARGV)))
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

// KEYS: shares, grabbed, settle. ARGV: user, now ms, may spill (1/0), ttl.
const grabScript = `
local mine = redis.call('HGET', KEYS[2], ARGV[1])
if mine then
  if mine == 'none' then return {'empty', ''} end
  if string.sub(mine, 1, 6) == 'spill:' then return {'spill', ''} end
  return {'mine', mine}
end
local share = redis.call('LPOP', KEYS[1])
if share then
  local value = share .. ':' .. ARGV[2]
  redis.call('HSET', KEYS[2], ARGV[1], value)
  redis.call('RPUSH', KEYS[3], ARGV[1] .. ':' .. value)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  return {'new', value}
end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[2], ARGV[1], 'spill:' .. ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  return {'spill', 'first'}
end
return {'empty', ''}`;

// KEYS (another sub-pool): shares, spilled, settle. ARGV: user, now ms, ttl.
const spillScript = `
local got = redis.call('HGET', KEYS[2], ARGV[1])
if got then return {'new', got} end
local share = redis.call('LPOP', KEYS[1])
if not share then return {'empty', ''} end
local value = share .. ':' .. ARGV[2]
redis.call('HSET', KEYS[2], ARGV[1], value)
redis.call('RPUSH', KEYS[3], ARGV[1] .. ':' .. value)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {'new', value}`;

// KEYS: settle, inflight. ARGV: n. Moves up to n records to inflight (after any left there).
const takeScript = `
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return redis.call('LRANGE', KEYS[2], 0, -1)`;

export interface PoolGrab {
  readonly state: 'mine' | 'new' | 'empty';
  readonly seq: number;
  readonly amountMinor: bigint;
  readonly grabbedAtMs: number;
}

export interface SettleRecord {
  readonly userId: string;
  readonly seq: number;
  readonly amountMinor: bigint;
  readonly grabbedAtMs: number;
}

type Reply = [string, string];

function parseShare(state: 'mine' | 'new', value: string): PoolGrab {
  const [seq = '', amount = '', at = ''] = value.split(':');
  return { state, seq: Number(seq), amountMinor: BigInt(amount), grabbedAtMs: Number(at) };
}

/** Packets whose empty sub-pools this process remembers (see `RedisSharePool.emptyPools`). */
const emptyPoolsPacketsMax = 1000;

export class RedisSharePool {
  /**
   * Sub-pools seen empty, by packet. A sub-pool's shares are loaded once and only ever popped
   * after, so once empty it stays empty (until a load, which forgets it here): a first spill
   * skips them instead of asking each one. Without this, every loser of a drained packet walked
   * all its sub-pools, a script call each.
   */
  private readonly emptyPools = new Map<string, Set<number>>();

  /** `perPool`: shares per sub-pool before a packet gets another (tests make it small). */
  constructor(
    private readonly redis: Redis,
    private readonly perPool = subPoolSharesMax,
  ) {}

  private markEmpty(packetId: string, pool: number): void {
    let empty = this.emptyPools.get(packetId);
    if (empty === undefined) {
      if (this.emptyPools.size >= emptyPoolsPacketsMax) this.emptyPools.clear();
      empty = new Set();
      this.emptyPools.set(packetId, empty);
    }
    empty.add(pool);
  }

  private pools(shareCount: number): number {
    return subPoolCount(shareCount, this.perPool);
  }

  /** Puts a packet's shares (in their stored, shuffled order) into its sub-pools, once. */
  async load(packetId: string, shares: readonly bigint[]): Promise<void> {
    await this.loadState(packetId, shares.length, shares.map((amountMinor, seq) => ({ seq, amountMinor })), []);
  }

  /**
   * Loads what PostgreSQL says of a packet: its open shares, and who already holds one (marked
   * in their home sub-pool first, so they cannot take a second) — for a packet that was grabbed
   * on PostgreSQL before Redis was configured, or whose Redis state was lost.
   */
  async loadState(
    packetId: string,
    shareCount: number,
    open: readonly { readonly seq: number; readonly amountMinor: bigint }[],
    taken: readonly { readonly userId: string; readonly seq: number; readonly amountMinor: bigint; readonly grabbedAtMs: number }[],
  ): Promise<void> {
    const pools = this.pools(shareCount);
    this.emptyPools.delete(packetId);
    for (const grab of taken) {
      const home = keys(packetId, homeSubPool(grab.userId, pools));
      await this.redis.hset(home.grabbed, grab.userId, `${String(grab.seq)}:${String(grab.amountMinor)}:${String(grab.grabbedAtMs)}`);
      await this.redis.expire(home.grabbed, keyTtlSeconds);
    }
    await Promise.all(
      Array.from({ length: pools }, (_, pool) => {
        const k = keys(packetId, pool);
        const items = open.filter((share) => share.seq % pools === pool).map((share) => `${String(share.seq)}:${String(share.amountMinor)}`);
        return this.redis.eval(loadScript, 2, k.shares, k.loaded, String(keyTtlSeconds), ...items);
      }),
    );
  }

  async isLoaded(packetId: string, shareCount: number): Promise<boolean> {
    const pools = this.pools(shareCount);
    const flags = await Promise.all(Array.from({ length: pools }, (_, pool) => this.redis.exists(keys(packetId, pool).loaded)));
    return flags.every((flag) => flag === 1);
  }

  /** One grab: the user's share (new or theirs already), or empty. */
  async grab(packetId: string, shareCount: number, userId: string, nowMs: number): Promise<PoolGrab> {
    const pools = this.pools(shareCount);
    const home = homeSubPool(userId, pools);
    const h = keys(packetId, home);
    const ttl = String(keyTtlSeconds);
    const [state, value] = (await this.redis.eval(grabScript, 3, h.shares, h.grabbed, h.settle, userId, String(nowMs), pools > 1 ? '1' : '0', ttl)) as Reply;
    if (state === 'mine' || state === 'new') return parseShare(state, value);
    if (state === 'empty') return { state: 'empty', seq: -1, amountMinor: 0n, grabbedAtMs: nowMs };
    if (value === 'first') this.markEmpty(packetId, home);
    // Spill: the other sub-pools in a fixed order from home; the first with a share wins. A first
    // spill cannot have taken a share anywhere yet, so it skips sub-pools known to be empty; a
    // retried one (home said `spill:` already) asks every one, as one of them may hold its share.
    const empty = value === 'first' ? this.emptyPools.get(packetId) : undefined;
    for (let step = 1; step < pools; step++) {
      const pool = (home + step) % pools;
      if (empty?.has(pool) === true) continue;
      const other = keys(packetId, pool);
      const [found, share] = (await this.redis.eval(spillScript, 3, other.shares, other.spilled, other.settle, userId, String(nowMs), ttl)) as Reply;
      if (found === 'new') {
        await this.redis.hset(h.grabbed, userId, share);
        return parseShare('new', share);
      }
      this.markEmpty(packetId, pool);
    }
    await this.redis.hset(h.grabbed, userId, 'none');
    return { state: 'empty', seq: -1, amountMinor: 0n, grabbedAtMs: nowMs };
  }

  /** Hands the packet's settlement records to `write` once (see `drainLists`). */
  async drain(packetId: string, shareCount: number, write: (records: SettleRecord[]) => Promise<void>): Promise<number> {
    const lists = Array.from({ length: this.pools(shareCount) }, (_, pool) => keys(packetId, pool));
    return drainLists(this.redis, lists, async (items) => {
      await write(items.map(parseRecord));
    });
  }

  /** Stops all grabs of a packet (at expiry): its share lists are emptied. */
  async close(packetId: string, shareCount: number): Promise<void> {
    const pools = this.pools(shareCount);
    await Promise.all(Array.from({ length: pools }, (_, pool) => this.redis.del(keys(packetId, pool).shares)));
  }

  /** Grabs recorded in Redis: how many people and how much, across the sub-pools. */
  async grabbedTotals(packetId: string, shareCount: number): Promise<{ readonly count: number; readonly amountMinor: bigint }> {
    let count = 0;
    let amountMinor = 0n;
    for (let pool = 0; pool < this.pools(shareCount); pool++) {
      const values = await this.redis.hvals(keys(packetId, pool).grabbed);
      for (const value of values) {
        if (value === 'none' || value.startsWith('spill:')) continue;
        count++;
        amountMinor += parseShare('mine', value).amountMinor;
      }
    }
    return { count, amountMinor };
  }
}

/**
 * Hands the settlement records of some Redis lists to `write` (which must be idempotent), then
 * forgets them. Records move to an in-flight list first, so a crash in `write` leaves them to be
 * written again by the next call; a lock per list keeps two processes from writing the same list
 * at once, and a caller waits for the lock rather than skip a list (the expiry sweep closes a
 * packet only once every record is written). Answers how many records were written.
 */
export async function drainLists(
  redis: Redis,
  lists: readonly { readonly settle: string; readonly inflight: string; readonly lock: string }[],
  write: (items: string[]) => Promise<void>,
): Promise<number> {
  let total = 0;
  for (const k of lists) {
    while ((await redis.set(k.lock, '1', 'PX', syncLockMs, 'NX')) !== 'OK') await new Promise((resolve) => setTimeout(resolve, lockWaitMs));
    try {
      for (;;) {
        const items = (await redis.eval(takeScript, 2, k.settle, k.inflight, String(syncBatchMax))) as string[];
        if (items.length === 0) break;
        await write(items);
        await redis.del(k.inflight);
        total += items.length;
        if (items.length < syncBatchMax) break;
      }
    } finally {
      await redis.del(k.lock);
    }
  }
  return total;
}

function parseRecord(item: string): SettleRecord {
  const [userId = '', seq = '', amount = '', at = ''] = item.split(':');
  return { userId, seq: Number(seq), amountMinor: BigInt(amount), grabbedAtMs: Number(at) };
}
