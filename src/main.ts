import { inspect } from 'node:util';
/**
 * `npm start`: the server. Loads the config, provides a PostgreSQL (DATABASE_URL, or an embedded
 * one under the data directory), migrates, builds the app, listens, and runs the periodic loop.
 * SIGINT/SIGTERM stop it in order — stop accepting, finish requests, drain the ledger writer,
 * close the pool, stop the embedded PostgreSQL — and exit 0.
 */
import { buildApp, type App } from './app.ts';
import { describeSeed, seedDemoIfEmpty } from './demo/seed.ts';
import { buildWebIfMissing } from './http/web.ts';
import { systemClock } from './kernel/clock.ts';
import { loadConfig, type Config } from './kernel/config.ts';
import { connect, migrate, type Sql } from './kernel/db.ts';
import type { EmbeddedDatabase } from './kernel/embedded-postgres.ts';
import { cryptoRandom } from './kernel/random.ts';

/** Past this, shutdown gives up waiting and exits non-zero rather than hang forever. */
const shutdownTimeoutMs = 30_000;
const handledSignals = ['SIGINT', 'SIGTERM'] as const;

function logLine(message: string): void {
  process.stderr.write(`qianbao: ${message}\n`);
}

/**
 * `embedded-postgres` installs SIGINT/SIGTERM handlers on import that stop its servers and exit
 * with 128+signal, racing our orderly shutdown. This process owns its signals, so the handlers
 * that package added are removed (its `exit` hook, which stops PostgreSQL if we crash, stays).
 */
async function importEmbeddedPostgres(): Promise<typeof import('./kernel/embedded-postgres.ts')> {
  const before = new Map(
    handledSignals.map((signal) => [signal, new Set(process.listeners(signal))]),
  );
  const module = await import('./kernel/embedded-postgres.ts');
  for (const signal of handledSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module;
}

async function provideDatabase(
  config: Config,
): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, embedded: null };
  logLine(`DATABASE_URL is not set: starting an embedded PostgreSQL under ${config.dataDir}`);
  const { startEmbeddedPostgres } = await importEmbeddedPostgres();
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: logLine });
  return { url: embedded.url, embedded };
}

/** What has been started so far; a signal during start-up stops just these. */
interface Running {
  app: App | null;
  sql: Sql | null;
  embedded: EmbeddedDatabase | null;
}

async function shutdown(running: Running): Promise<void> {
  // Fastify's close stops accepting, waits for in-flight requests, then runs the app's onClose
  // hooks: the maintenance loop stops and the ledger writer drains its queue.
  await running.app?.close();
  await running.sql?.end({ timeout: 5 });
  await running.embedded?.stop();
}

function log(
  running: Running,
  level: 'info' | 'warn' | 'error',
  message: string,
  error?: unknown,
): void {
  if (running.app === null) logLine(error === undefined ? message : `${message}: ${error instanceof Error ? error.message : inspect(error)}`);
  else running.app.http.log[level]({ err: error }, message);
}

function handleSignals(running: Running): void {
  let isStopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (isStopping) {
      log(running, 'warn', `${signal} again during shutdown: exiting now`);
      process.exit(1);
    }
    isStopping = true;
    log(running, 'info', `${signal}: shutting down`);
    const deadline = setTimeout(() => {
      log(running, 'error', 'shutdown timed out');
      process.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    shutdown(running).then(
      () => {
        log(running, 'info', 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log(running, 'error', 'shutdown failed', error);
        process.exit(1);
      },
    );
  };
  for (const signal of handledSignals) process.on(signal, onSignal);
}

async function start(running: Running): Promise<void> {
  const config = loadConfig();
  await buildWebIfMissing(logLine);
  const { url, embedded } = await provideDatabase(config);
  running.embedded = embedded;
  const sql = connect({ url, poolSize: config.databasePoolSize });
  running.sql = sql;
  const applied = await migrate(sql);
  if (applied.length > 0) logLine(`applied migrations: ${applied.join(', ')}`);
  const app = await buildApp({
    config,
    sql,
    clock: systemClock,
    random: cryptoRandom,
    logger: { level: config.logLevel },
  });
  running.app = app;
  // Seeded before listening, so a signal can never arrive half-way through it, and the first
  // request already finds the demo users.
  const seed = config.seedDemo ? await seedDemoIfEmpty(app, sql, cryptoRandom) : undefined;
  const address = await app.http.listen({ host: config.host, port: config.port });
  app.startMaintenance();
  if (seed !== undefined) logLine(describeSeed(seed, address));
  app.http.log.info(`qianbao is up at ${address} (API docs at ${address}/docs)`);
}

const running: Running = { app: null, sql: null, embedded: null };
// Handlers go in first: a signal during a slow first start (initdb) still stops what started.
handleSignals(running);
start(running).catch(async (error: unknown) => {
  logLine(
    `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await shutdown(running).catch(() => undefined);
  process.exit(1);
});
