import DataLoader from 'dataloader';

/**
 * Coalesces the calls made in one tick into one call of `run`: DataLoader's scheduling, with its
 * cache off (every call reads or writes afresh). Under load, the requests one PostgreSQL reply
 * wakes reach their next statement in the same tick, so one round trip serves them all; a lone
 * request pays nothing for it. `run` answers each key in order, an Error for a key that failed;
 * if `run` throws, every call of its batch rejects with that error.
 */
export type Batched<K, V> = (key: K) => Promise<V>;

export const batchSizeMax = 256;

export function batched<K, V>(
  run: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
): Batched<K, V> {
  const loader = new DataLoader<K, V>(run, {
    cache: false,
    maxBatchSize: batchSizeMax,
    batchScheduleFn: (callback) => setImmediate(callback),
  });
  return (key) => loader.load(key);
}
