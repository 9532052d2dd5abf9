import path from 'node:path';
import type { Config } from '../src/kernel/config.ts';
import { dropSchema, ensureSchema } from '../src/kernel/db.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/kernel/embedded-postgres.ts';

/**
 * The database a benchmark runs against: DATABASE_URL, or an embedded PostgreSQL under
 * `<dataDir>/bench`; a fixed schema per benchmark, dropped first so an interrupted run leaves
 * nothing behind for long.
 */
export interface BenchDatabase {
  readonly url: string;
  readonly schema: string;
  readonly label: string;
  close(keep: boolean): Promise<void>;
}

export async function openBenchDatabase(config: Config, schema: string): Promise<BenchDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'bench') });
    url = embedded.url;
  }
  await dropSchema(url, schema);
  await ensureSchema(url, schema);
  const resolved = url;
  return {
    url: resolved,
    schema,
    label: embedded === undefined ? 'DATABASE_URL' : 'embedded',
    close: async (keep) => {
      if (!keep) await dropSchema(resolved, schema);
      await embedded?.stop();
    },
  };
}
