import { randomBytes, randomFillSync, randomInt } from 'node:crypto';

/** Randomness is injected: domain code never calls Math.random(). */
export interface Random {
  /** Uniform integer in [min, max). */
  int(min: number, max: number): number;
  bytes(length: number): Uint8Array;
}

/**
 * Small draws (ids take 16 bytes each) come from a pool filled 4 KiB at a time from the same CSPRNG,
 * as Node's own randomUUID does: one system call per 256 ids instead of one each. Every byte is
 * handed out once.
 */
const poolBytes = 4096;
const pool = Buffer.alloc(poolBytes);
let poolOffset = poolBytes;

function pooledBytes(length: number): Uint8Array {
  if (length > poolBytes / 16) return randomBytes(length);
  if (poolOffset + length > poolBytes) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = new Uint8Array(pool.subarray(poolOffset, poolOffset + length));
  poolOffset += length;
  return out;
}

export const cryptoRandom: Random = {
  int: (min, max) => randomInt(min, max),
  bytes: pooledBytes,
};

/**
 * A deterministic generator (xorshift128+ seeded by splitmix64) for tests and simulations; the
 * seed is printed on failure so a run can be replayed. Never for money or secrets.
 */
export class SeededRandom implements Random {
  private s0: bigint;
  private s1: bigint;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed;
    let x = BigInt.asUintN(64, BigInt(seed));
    const next = (): bigint => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }

  private next64(): bigint {
    let s1 = this.s0;
    const s0 = this.s1;
    this.s0 = s0;
    s1 = BigInt.asUintN(64, s1 ^ (s1 << 23n));
    this.s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return BigInt.asUintN(64, this.s1 + s0);
  }

  int(min: number, max: number): number {
    if (!(max > min)) throw new RangeError('empty range');
    const span = BigInt(max - min);
    return min + Number(this.next64() % span);
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 256);
    return out;
  }
}
