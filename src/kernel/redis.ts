import { Redis } from 'ioredis';

/**
 * The Redis client when REDIS_URL is set (ioredis). Commands fail fast rather than queue while
 * Redis is away: a grab answers 503 and the user taps again, instead of hanging. Commands issued
 * in the same tick go out in one write (auto-pipelining): under a stampede, one system call
 * carries the scripts of many grabs.
 */
export function connectRedis(url: string, keyPrefix: string): Redis {
  const client = new Redis(url, { keyPrefix, maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false, enableAutoPipelining: true });
  // Connection errors are the owner's to log (the app does, throttled); without a listener ioredis
  // prints each reconnect attempt.
  client.on('error', () => undefined);
  return client;
}
