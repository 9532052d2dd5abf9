/**
 * `npm test`: provides a PostgreSQL (DATABASE_URL when set — CI's server — or an embedded one
 * started here under .qianbao/test), then runs every *.test.ts under src/ and test/ with node's
 * test runner. Pass file paths to run only those.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/kernel/embedded-postgres.ts';

async function findTests(dir: string): Promise<string[]> {
  const found: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found.sort();
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args : [...(await findTests('src')), ...(await findTests('test'))];
let embedded: EmbeddedDatabase | undefined;
const env = { ...process.env };
if (env['DATABASE_URL'] === undefined || env['DATABASE_URL'] === '') {
  process.stderr.write('DATABASE_URL is not set: starting an embedded PostgreSQL for the tests\n');
  embedded = await startEmbeddedPostgres({ dataDir: path.join('.qianbao', 'test') });
  env['DATABASE_URL'] = embedded.url;
} else {
  process.stderr.write('tests use the PostgreSQL at DATABASE_URL\n');
}
const concurrency = env['TEST_CONCURRENCY'] ?? '2';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
const code: number = await new Promise((resolve) => {
  child.on('exit', (exitCode, signal) => {
    resolve(exitCode ?? (signal === null ? 1 : 128));
  });
});
await embedded?.stop();
process.exit(code);
