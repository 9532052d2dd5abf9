/**
 * Configuration comes from the environment once, at start, into one typed object that is passed
 * down; nothing else reads process.env.
 */
export interface Config {
  /** A PostgreSQL URL; unset means the embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /**
   * Connections in the PostgreSQL pool. Concurrent requests share statements (ADR 0006), so a few
   * go a long way; the HTTP benchmarks run with 40 (README, "Measured").
   */
  readonly databasePoolSize: number;
  readonly redisUrl: string | undefined;
  /** Every Redis key starts with this, so deployments (and test runs) sharing a Redis stay apart. */
  readonly redisPrefix: string;
  /** Where the embedded PostgreSQL and other local state live. */
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** Bearer token for operator routes; unset means one is generated and written under dataDir. */
  readonly operatorToken: string | undefined;
  /** HMAC key for payment PINs, 64 hex digits; unset means one kept under dataDir. */
  readonly pinKey: string | undefined;
  /** Create demo users, bills and an operator on an empty database (QIANBAO_DEMO=0 turns it off). */
  readonly seedDemo: boolean;
  readonly ledger: LedgerConfig;
  /** Payment-code charges up to this many fen go through without the payer's PIN (小额免密); 0 turns it off. */
  readonly payCodeNoPinMaxMinor: bigint;
  /** Most shares one red packet may have. */
  readonly redpacketSharesMax: number;
  /** Grab attempts per second per user before 429. */
  readonly redpacketGrabRateMax: number;
  /** Requests per minute per user on the routes that carry the payment PIN. */
  readonly pinRateMax: number;
  /** How often the marketing burn-rate breaker looks at spend (guardrail 5: pause within 5 s). */
  readonly marketingBreakerIntervalMs: number;
}

export interface LedgerConfig {
  /** The largest amount one transfer may carry, in minor units. */
  readonly transferAmountMaxMinor: bigint;
  /** How long the writer waits to gather a batch once the first transfer arrives. */
  readonly batchLingerMs: number;
  /** The most transfers one batch applies. */
  readonly batchSizeMax: number;
  /** How often the server looks for expired holds. */
  readonly expirySweepIntervalMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in [${String(min)}, ${String(max)}], got "${raw}"`);
  }
  return value;
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function loadConfig(env: Env = process.env): Config {
  return {
    databaseUrl: text(env, 'DATABASE_URL'),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    redisUrl: text(env, 'REDIS_URL'),
    redisPrefix: text(env, 'QIANBAO_REDIS_PREFIX') ?? 'qb:',
    dataDir: text(env, 'QIANBAO_DATA_DIR') ?? '.qianbao',
    host: text(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    operatorToken: text(env, 'QIANBAO_OPERATOR_TOKEN'),
    seedDemo: text(env, 'QIANBAO_DEMO') !== '0',
    pinKey: text(env, 'QIANBAO_PIN_KEY'),
    payCodeNoPinMaxMinor: BigInt(integer(env, 'QIANBAO_PAY_CODE_NO_PIN_MAX_FEN', 20_000, 0, 100_000)),
    redpacketSharesMax: integer(env, 'QIANBAO_REDPACKET_SHARES_MAX', 100, 1, 100_000),
    redpacketGrabRateMax: integer(env, 'QIANBAO_REDPACKET_GRAB_RATE_PER_S', 10, 1, 10_000),
    pinRateMax: integer(env, 'QIANBAO_PIN_RATE_PER_MIN', 30, 1, 100_000),
    marketingBreakerIntervalMs: integer(env, 'QIANBAO_MARKETING_BREAKER_MS', 1000, 100, 5000),
    ledger: {
      transferAmountMaxMinor: BigInt(
        integer(env, 'QIANBAO_TRANSFER_MAX_MINOR', 100_000_000_000, 1, Number.MAX_SAFE_INTEGER),
      ),
      batchLingerMs: integer(env, 'QIANBAO_BATCH_LINGER_MS', 1, 0, 100),
      batchSizeMax: integer(env, 'QIANBAO_BATCH_SIZE_MAX', 2000, 1, 10_000),
      expirySweepIntervalMs: integer(env, 'QIANBAO_EXPIRY_SWEEP_MS', 1000, 10, 3_600_000),
    },
  };
}
