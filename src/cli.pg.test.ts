/**
 * Goal: the operator CLI end to end — migrate, accounts, transfers and holds, statements, and the
 * two audits' exit codes: reconcile and verify pass on a healthy ledger and exit 1 naming what was
 * tampered with through SQL; bad arguments exit 2 and change nothing.
 * Method: runs the real `node bin/qianbao.js …` as a child process against DATABASE_URL in a
 * schema of its own (QIANBAO_DB_SCHEMA), and tampers through a direct connection to that schema.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, dropSchema, type Sql } from './kernel/db.ts';
import { testDatabaseUrl } from './testing/pg.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliTimeoutMs = 60_000;
const url = testDatabaseUrl();
const schema = `t_cli_${randomBytes(5).toString('hex')}`;
let sql: Sql;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function qianbao(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'qianbao.js'), ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, QIANBAO_DB_SCHEMA: schema },
      timeout: cliTimeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
  });
}

function show(run: Run): string {
  return `exit ${String(run.code)}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

async function expectExit(code: number, ...args: string[]): Promise<Run> {
  const run = await qianbao(...args);
  assert.equal(run.code, code, `qianbao ${args.join(' ')}\n${show(run)}`);
  return run;
}

before(async () => {
  const run = await expectExit(0, 'migrate');
  assert.match(run.stdout, /applied 0001_ledger_init\.sql/);
  sql = connect({ url, schema, poolSize: 2 });
});
after(async () => {
  await sql.end({ timeout: 5 });
  await dropSchema(url, schema);
});

describe('qianbao CLI', () => {
  test('migrate a second time has nothing to apply', async () => {
    const run = await expectExit(0, 'migrate');
    assert.match(run.stdout, /up to date/);
  });

  test('usage errors exit 2 and change nothing', async () => {
    await expectExit(2);
    await expectExit(2, 'ledger', 'no-such-command');
    await expectExit(
      2,
      'ledger',
      'transfer',
      '--id',
      'u1',
      '--from',
      'a',
      '--to',
      'b',
      '--kind',
      'p2p',
    );
    // Each run starts a process; src/cli.test.ts covers the argument mapping in full.
    for (const amount of ['1.234', '1e3']) {
      const run = await expectExit(
        2,
        'ledger',
        'transfer',
        '--id',
        'u1',
        '--from',
        'a',
        '--to',
        'b',
        '--amount',
        amount,
        '--kind',
        'p2p',
      );
      assert.match(run.stderr, /--amount/);
    }
    await expectExit(
      2,
      'ledger',
      'transfer',
      '--id',
      'u1',
      '--from',
      'a',
      '--to',
      'b',
      '--amount',
      '1',
      '--kind',
      'p2p',
      '--timeout',
      '5',
    );
    await expectExit(2, 'ledger', 'account', 'create', '--code', 'Not A Code');
    const [count] = await sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM ledger_transfers`;
    assert.equal(count?.n, 0n);
  });

  test('accounts, transfers, holds and statements', async () => {
    await expectExit(0, 'ledger', 'account', 'create', '--code', 'system.bank', '--id', 'bank');
    const created = await expectExit(
      0,
      'ledger',
      'account',
      'create',
      '--code',
      'user.wallet',
      '--no-overdraft',
      '--owner',
      'usr_1',
      '--id',
      'w1',
    );
    assert.match(created.stdout, /overdraft\s+not allowed/);
    await expectExit(
      0,
      'ledger',
      'account',
      'create',
      '--code',
      'user.wallet',
      '--no-overdraft',
      '--id',
      'w2',
    );
    const topup = await expectExit(
      0,
      'ledger',
      'transfer',
      '--id',
      'topup-1',
      '--from',
      'bank',
      '--to',
      'w1',
      '--amount',
      '12.34',
      '--kind',
      'topup',
    );
    assert.match(topup.stdout, /created/);
    const retry = await expectExit(
      0,
      'ledger',
      'transfer',
      '--id',
      'topup-1',
      '--from',
      'bank',
      '--to',
      'w1',
      '--amount',
      '12.34',
      '--kind',
      'topup',
    );
    assert.match(retry.stdout, /exists/);
    const differs = await expectExit(
      1,
      'ledger',
      'transfer',
      '--id',
      'topup-1',
      '--from',
      'bank',
      '--to',
      'w1',
      '--amount',
      '12.35',
      '--kind',
      'topup',
    );
    assert.match(differs.stderr, /ledger\.exists_with_different_amount/);
    const broke = await expectExit(
      1,
      'ledger',
      'transfer',
      '--id',
      'p2p-1',
      '--from',
      'w1',
      '--to',
      'w2',
      '--amount',
      '100',
      '--kind',
      'p2p',
    );
    assert.match(broke.stderr, /ledger\.insufficient_funds/);
    await expectExit(
      0,
      'ledger',
      'transfer',
      '--id',
      'p2p-2',
      '--from',
      'w1',
      '--to',
      'w2',
      '--amount',
      '2.34',
      '--kind',
      'p2p',
    );

    await expectExit(
      0,
      'ledger',
      'transfer',
      '--id',
      'hold-1',
      '--from',
      'w1',
      '--to',
      'w2',
      '--amount',
      '3',
      '--kind',
      'p2p',
      '--pending',
      '--timeout',
      '3600',
    );
    const held = await expectExit(0, 'ledger', 'account', 'show', 'w1');
    assert.match(held.stdout, /balance\s+10\.00 CNY/);
    assert.match(held.stdout, /available\s+7\.00 CNY/);
    await expectExit(0, 'ledger', 'post', 'hold-1', '--id', 'hold-1-post', '--amount', '1.00');
    const again = await expectExit(1, 'ledger', 'void', 'hold-1', '--id', 'hold-1-void');
    assert.match(again.stderr, /ledger\.pending_transfer_already_posted/);
    await expectExit(
      0,
      'ledger',
      'transfer',
      '--id',
      'hold-2',
      '--from',
      'w1',
      '--to',
      'w2',
      '--amount',
      '1',
      '--kind',
      'p2p',
      '--pending',
    );
    await expectExit(0, 'ledger', 'void', 'hold-2', '--id', 'hold-2-void');
    const sweep = await expectExit(0, 'ledger', 'expire');
    assert.match(sweep.stdout, /released 0 holds/);

    const shown = await expectExit(0, 'ledger', 'account', 'show', 'w1');
    assert.match(shown.stdout, /balance\s+9\.00 CNY/);
    assert.match(shown.stdout, /owner\s+usr_1/);
    await expectExit(1, 'ledger', 'account', 'show', 'nobody');

    const first = await expectExit(0, 'ledger', 'statement', 'w1', '--limit', '2');
    assert.match(first.stdout, /hold-1-post\s+post\s+p2p\s+-1\.00\s+9\.00/);
    const cursor = /--cursor (\d+)/.exec(first.stdout)?.[1];
    assert.ok(cursor, first.stdout);
    const rest = await expectExit(0, 'ledger', 'statement', 'w1', '--cursor', cursor);
    assert.match(rest.stdout, /topup-1\s+posted\s+topup\s+\+12\.34\s+12\.34\s+bank/);
    assert.match(rest.stdout, /end of statement/);
  });

  test('reconcile exits 0 when healthy and 1 naming a tampered balance', async () => {
    const healthy = await expectExit(0, 'ledger', 'reconcile');
    assert.match(healthy.stdout, /reconcile OK/);
    const json = await expectExit(0, 'ledger', 'reconcile', '--json');
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      currencies: { currency: string; postedSumMinor: unknown }[];
    };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.currencies.map((c) => [c.currency, c.postedSumMinor]),
      [['CNY', '0']],
    );

    await sql`UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = 'w2'`;
    try {
      const broken = await expectExit(1, 'ledger', 'reconcile');
      assert.match(broken.stdout, /book_equals_entries\s+w2\s/);
      assert.match(broken.stdout, /currency_sums_to_zero\s+CNY/);
      assert.match(broken.stdout, /reconcile FAILED/);
      const brokenJson = await expectExit(1, 'ledger', 'reconcile', '--json');
      const problems = (
        JSON.parse(brokenJson.stdout) as { problems: { check: string; subject: string }[] }
      ).problems;
      assert.ok(problems.some((p) => p.check === 'book_equals_entries' && p.subject === 'w2'));
    } finally {
      await sql`UPDATE ledger_accounts SET credits_posted = credits_posted - 1 WHERE id = 'w2'`;
    }
    await expectExit(0, 'ledger', 'reconcile');
  });

  test('verify exits 0 when healthy and 1 naming the seq and transfer of a changed row', async () => {
    const healthy = await expectExit(0, 'ledger', 'verify');
    assert.match(healthy.stdout, /chain OK/);
    assert.match(healthy.stderr, /verify: \d+ of \d+ links/);
    const [victim] = await sql<{ seq: bigint; id: string }[]>`
      SELECT seq, id FROM ledger_transfers WHERE id = 'p2p-2'`;
    assert.ok(victim);
    // The journal is append-only; a replica-role session skips the trigger, as an attacker with
    // superuser rights could.
    await sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE ledger_transfers SET amount_minor = amount_minor + 100 WHERE seq = ${victim.seq.toString()}`;
    });
    const broken = await expectExit(1, 'ledger', 'verify');
    assert.match(
      broken.stdout,
      new RegExp(`BROKEN at seq ${victim.seq.toString()}, transfer p2p-2:`),
    );
  });
});
