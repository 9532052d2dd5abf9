/**
 * The process test/redpacket-crash.test.ts kills. It builds the whole app on the schema the
 * parent prepared (and on Redis when CRASH_REDIS_URL is set, under the parent's key prefix) and
 * grabs the parent's packet as each of the listed users, 8 at a time, while the app's settler pays
 * the grabs in the background. For each grab the app answered it prints `ack <userId> <amount>`,
 * only after the answer; stdout is a pipe, written synchronously on Linux.
 *
 * Environment: DATABASE_URL, CRASH_SCHEMA, CRASH_PACKET, CRASH_USERS (comma-separated),
 * CRASH_REDIS_URL and CRASH_REDIS_PREFIX (optional). Exits 0 when every user has grabbed (the
 * parent should have killed it before), 2 on an unexpected error.
 */
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect } from '../src/kernel/db.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { DomainError } from '../src/kernel/errors.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const sql = connect({ url: required('DATABASE_URL'), schema: required('CRASH_SCHEMA'), poolSize: 8 });
const packetId = required('CRASH_PACKET');
const userIds = required('CRASH_USERS').split(',');
const redisUrl = process.env['CRASH_REDIS_URL'] ?? '';
const config = loadConfig({
  QIANBAO_OPERATOR_TOKEN: 'crash',
  QIANBAO_DATA_DIR: required('CRASH_DATA_DIR'),
  QIANBAO_BATCH_LINGER_MS: '0',
  REDIS_URL: redisUrl,
  QIANBAO_REDIS_PREFIX: process.env['CRASH_REDIS_PREFIX'] ?? 'crash:',
});
try {
  const app = await buildApp({ config, sql, clock: systemClock, random: cryptoRandom });
  const queue = [...userIds];
  const worker = async (): Promise<void> => {
    for (let userId = queue.shift(); userId !== undefined; userId = queue.shift()) {
      const user = await app.identity.getUser(userId);
      if (user === undefined) throw new Error(`no user ${userId}`);
      try {
        const outcome = await app.redPackets.grab(user, packetId);
        process.stdout.write(`ack ${userId} ${outcome.amountMinor.toString()}\n`);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'redpacket.empty')) throw error;
      }
      // Slow enough that the kill lands among grabs and settlement passes, not after them.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await app.redPackets.settleNow();
  await app.close();
  await sql.end();
} catch (error) {
  process.stderr.write(`${String(error)}\n`);
  process.exit(2);
}
