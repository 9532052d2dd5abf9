import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

/**
 * The database handle. int8 columns parse to `bigint` (money never passes through a float), and
 * an optional schema isolates a test file or a benchmark from everything else in the database.
 */
export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;
export type ReservedSql = postgres.ReservedSql<{ bigint: bigint }>;

export interface DbOptions {
  readonly url: string;
  /** Connections in the pool. */
  readonly poolSize?: number;
  /** A schema to create and work in; unset means the server's default search_path. */
  readonly schema?: string;
  /** Called with each query sent (the benchmarks count statements with it). */
  readonly debug?: (connection: number, query: string) => void;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The URL and socket options for postgres.js. libpq's `?host=/var/run/postgresql` names a Unix
 * socket directory, which postgres.js takes only as an option: a server on the same machine is
 * cheaper to reach through its socket than through TCP on loopback.
 */
export function clientTarget(url: string): { readonly url: string; readonly host?: string } {
  const parsed = new URL(url);
  const host = parsed.searchParams.get('host');
  if (host === null || !host.startsWith('/')) return { url };
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), host };
}

function adminClient(url: string) {
  const target = clientTarget(url);
  return postgres(target.url, { max: 1, onnotice: () => undefined, host: target.host });
}

export function connect(options: DbOptions): Sql {
  if (options.schema !== undefined && !schemaPattern.test(options.schema)) {
    throw new Error(`invalid schema name: ${options.schema}`);
  }
  const target = clientTarget(options.url);
  return postgres(target.url, {
    host: target.host,
    max: options.poolSize ?? 10,
    types: { bigint: postgres.BigInt },
    onnotice: () => undefined,
    ...(options.debug === undefined ? {} : { debug: options.debug }),
    idle_timeout: 30,
    connect_timeout: 10,
    connection: {
      ...(options.schema === undefined ? {} : { search_path: options.schema }),
      // Plan every statement for the arguments it runs with (ADR 0013). Batched statements take
      // arrays of 1 to ~64 rows, which a cached generic plan cannot see, and a generic plan made
      // while a table was small keeps scanning it whole as it grows, until ANALYZE.
      plan_cache_mode: 'force_custom_plan',
    },
  }) as Sql;
}

export async function ensureSchema(url: string, schema: string): Promise<void> {
  if (!schemaPattern.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const admin = adminClient(url);
  try {
    await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await admin.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!schemaPattern.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const admin = adminClient(url);
  try {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

export const migrationsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../db/migrations',
);

/**
 * Applies the plain-SQL migrations in `db/migrations` that are not yet applied, in name order,
 * each in its own transaction. An advisory lock keeps two processes starting at once from racing;
 * a changed checksum of an applied file stops the start (migrations are forward-only).
 */
export async function migrate(sql: Sql, dir = migrationsDir): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(7110533)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`;
    const rows = await tx<{ name: string; checksum: string }[]>`
      SELECT name, checksum FROM schema_migrations`;
    const known = new Map(rows.map((row) => [row.name, row.checksum]));
    for (const name of files) {
      const body = await readFile(path.join(dir, name), 'utf8');
      const checksum = createHash('sha256').update(body).digest('hex');
      const previous = known.get(name);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new Error(`migration ${name} changed after it was applied; add a new one instead`);
        }
        continue;
      }
      await tx.unsafe(body);
      await tx`INSERT INTO schema_migrations (name, checksum) VALUES (${name}, ${checksum})`;
      applied.push(name);
    }
  });
  return applied;
}

/**
 * A FROM item that lets the statement's own transaction commit without waiting for its WAL to be
 * flushed (`synchronous_commit` off for that transaction only; the session keeps its setting).
 * Only for writes the ledger makes safe (ADR 0006): written before a ledger batch, whose durable
 * commit flushes them too, or after one, and recovered from the ledger if a database crash loses
 * them. Never for money, and never for anything a user is told is done that the ledger cannot
 * rebuild.
 */
export function relaxedCommit(db: Sql | TransactionSql | ReservedSql): postgres.PendingQuery<postgres.Row[]> {
  return db`(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit`;
}
