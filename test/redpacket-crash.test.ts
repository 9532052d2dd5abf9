/**
 * Goal: a red packet's grabs and their settlement survive the process dying at any moment. A
 * child (test/redpacket-crash-child.ts) grabs one group packet as many users while its settler
 * pays them; the parent kills it with SIGKILL at random moments, several times, each new child
 * resuming; then a fresh app settles what is left. Every grab a child acknowledged must be that
 * user's one share, with the amount it was told, paid once; nobody holds two; the packet's audit
 * (escrow + paid = sent, Redis agreeing) and the ledger reconcile. On PostgreSQL, and on Redis
 * when REDIS_URL is set.
 * Method: one test schema per path; kill moments from a seed (CRASH_SEED, printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { reconcile } from '../src/ledger/index.ts';
import { balanceMinor, fundedUser, newUser } from '../src/payments/testing.ts';
import { grabPaths, groupOf, sendPacket } from '../src/redpacket/testing.ts';
import { createTestApp } from '../src/testing/app.ts';

const seed = Number(process.env['CRASH_SEED'] ?? String(randomInt(1, 2 ** 31)));
const kills = 3;
const users = 40;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const childScript = path.join(repoRoot, 'test', 'redpacket-crash-child.ts');

function childEnvironment(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _testContext, ...rest } = process.env;
  return rest;
}

/** Runs a child until it has printed `killAfter` more acks (or ended), then SIGKILLs it. */
async function runAndKill(env: NodeJS.ProcessEnv, killAfterAcks: number): Promise<{ acks: string[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnvironment(), ...env } });
  const acks: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('ack ')) acks.push(line.slice(4));
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-10_000);
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => { resolve(); }));
  const deadline = performance.now() + 60_000;
  while (acks.length < killAfterAcks && child.exitCode === null && performance.now() < deadline) await sleep(2);
  child.kill('SIGKILL');
  await closed;
  return { acks, stderr };
}

for (const path_ of grabPaths()) {
  test(`grabs on ${path_.name}: killed ${String(kills)} times mid-grab and mid-settlement, every acknowledged grab is paid once [seed ${String(seed)}]`, async () => {
    const t = await createTestApp(path_.env, { clockStartMs: Date.now() });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-rpcrash-'));
    try {
      const sender = await newUser(t.app);
      await fundedUser(t.app, sender, 1_000_000n);
      const grabbers = await Promise.all(Array.from({ length: users }, () => newUser(t.app)));
      const groupId = await groupOf(t.app, sender, grabbers);
      const packet = await sendPacket(t.app, sender, { amountMinor: String(users * 100), count: users, groupId });
      const told = new Map<string, string>();
      let next = 0;
      const random = (max: number): number => ((seed * 7919 + next++ * 104_729) % max);
      for (let kill = 0; kill < kills; kill++) {
        const { acks, stderr } = await runAndKill(
          {
            DATABASE_URL: t.db.url,
            CRASH_SCHEMA: t.db.schema,
            CRASH_PACKET: packet.id,
            CRASH_USERS: grabbers.map((u) => u.id).join(','),
            CRASH_DATA_DIR: dataDir,
            CRASH_REDIS_URL: path_.env['REDIS_URL'] ?? '',
            CRASH_REDIS_PREFIX: `${t.db.schema}:`,
          },
          3 + random(12),
        );
        assert.ok(acks.length > 0, `[seed ${String(seed)}] a child acknowledged grabs before the kill:\n${stderr}`);
        for (const line of acks) {
          const [userId = '', amount = ''] = line.split(' ');
          const earlier = told.get(userId);
          assert.ok(earlier === undefined || earlier === amount, `[seed ${String(seed)}] ${userId} was told ${String(earlier)} and then ${amount}`);
          told.set(userId, amount);
        }
      }
      // A fresh app picks up what the dead ones left: Redis records not yet synced, grabs not yet paid.
      await t.app.redPackets.syncAllActive();
      await t.app.redPackets.settleNow();
      for (const [userId, amount] of told) {
        const user = grabbers.find((u) => u.id === userId);
        assert.ok(user !== undefined);
        assert.equal(await balanceMinor(t.app, user.walletAccountId), BigInt(amount), `[seed ${String(seed)}] ${userId} holds what they were told, once`);
      }
      const [row] = await t.db.sql<{ n: number; users: number }[]>`
        SELECT count(*)::int AS n, count(DISTINCT grabbed_by)::int AS users FROM redpacket_shares WHERE packet_id = ${packet.id} AND grabbed_by IS NOT NULL`;
      assert.equal(row?.n, row?.users, 'nobody holds two shares');
      assert.ok((row?.n ?? 0) >= told.size, 'every acknowledged grab is on its share');
      const audit = await t.app.redPackets.audit(packet.id);
      assert.equal(audit.ok, true, `[seed ${String(seed)}] ${audit.problems.join('; ')}`);
      assert.equal((await reconcile(t.db.sql)).ok, true);
    } finally {
      await t.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}
