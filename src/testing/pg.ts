import { randomBytes } from 'node:crypto';
import { connect, dropSchema, ensureSchema, migrate, type Sql } from '../kernel/db.ts';

/**
 * The PostgreSQL harness for `*.pg.test.ts` files: each gets a schema of its own, migrated, in the
 * database that `npm test` provides (DATABASE_URL, set by scripts/test.ts to CI's server or to an
 * embedded PostgreSQL it started).
 */
export interface TestDb {
  readonly sql: Sql;
  readonly url: string;
  readonly schema: string;
  /** The statements sent while `work` runs whose text matches `pattern`, counted. */
  countStatements<T>(work: () => Promise<T>, pattern: RegExp): Promise<{ readonly result: T; readonly count: number }>;
  close(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url === '') {
    throw new Error('DATABASE_URL is not set: run the tests with `npm test`, which provides a database');
  }
  return url;
}

export async function createTestDb(options: { poolSize?: number; keep?: boolean } = {}): Promise<TestDb> {
  const url = testDatabaseUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await ensureSchema(url, schema);
  const watchers = new Set<(query: string) => void>();
  const sql = connect({ url, schema, poolSize: options.poolSize ?? 8, debug: (_connection, query) => {
    for (const watch of watchers) watch(query);
  } });
  await migrate(sql);
  return {
    sql,
    url,
    schema,
    countStatements: async (work, pattern) => {
      let count = 0;
      const watch = (query: string): void => {
        if (pattern.test(query)) count += 1;
      };
      watchers.add(watch);
      try {
        return { result: await work(), count };
      } finally {
        watchers.delete(watch);
      }
    },
    close: async () => {
      await sql.end({ timeout: 5 });
      if (options.keep !== true) await dropSchema(url, schema);
    },
  };
}
