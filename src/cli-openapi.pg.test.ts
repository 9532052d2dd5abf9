/**
 * Goal: `qianbao openapi app create` registers an app from the command line for a merchant found
 * by mobile number and prints the platform public key the ISV configures; `list` shows it; an
 * unknown merchant exits 1 and registers nothing.
 * Method: the real CLI (bin/qianbao.js) as a child process on a schema of its own; a merchant
 * signed up through the app's services on the same schema.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { buildApp, type App } from './app.ts';
import { FakeClock } from './kernel/clock.ts';
import { loadConfig } from './kernel/config.ts';
import { connect, dropSchema, type Sql } from './kernel/db.ts';
import { SeededRandom } from './kernel/random.ts';
import { testDatabaseUrl } from './testing/pg.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const url = testDatabaseUrl();
const schema = `t_cli_oa_${randomBytes(5).toString('hex')}`;
let sql: Sql;
let app: App;
let dir: string;

function qianbao(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'qianbao.js'), ...args], { cwd: root, env: { ...process.env, DATABASE_URL: url, QIANBAO_DB_SCHEMA: schema, QIANBAO_DATA_DIR: dir }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qianbao-cli-oa-'));
  assert.equal((await qianbao('migrate')).code, 0);
  sql = connect({ url, schema, poolSize: 4 });
  app = await buildApp({ config: loadConfig({ QIANBAO_DATA_DIR: dir, QIANBAO_DEMO: '0' }), sql, clock: new FakeClock(Date.now()), random: new SeededRandom(5) });
  await app.identity.signUp({ mobile: '13900000009', password: 'merchant-pass-1', displayName: '商户 Merchant' });
});
after(async () => {
  await app.close();
  await sql.end({ timeout: 5 });
  await dropSchema(url, schema);
  await rm(dir, { recursive: true, force: true });
});

test('openapi app create prints the app and its platform key; list shows it; an unknown merchant is refused', async () => {
  const keyFile = path.join(dir, 'app.pub');
  await writeFile(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const refused = await qianbao('openapi', 'app', 'create', '--name', 'x', '--owner-mobile', '13900000000', '--public-key', keyFile);
  assert.equal(refused.code, 1, refused.stderr);
  const created = await qianbao('openapi', 'app', 'create', '--name', '咖啡 Coffee', '--owner-mobile', '13900000009', '--public-key', keyFile, '--notify-url', 'https://merchant.example/notify');
  assert.equal(created.code, 0, created.stderr);
  const json = JSON.parse(created.stdout) as { appId: string; notifyUrls: string[]; platformPublicKey: { pem: string; base64: string } };
  assert.match(json.appId, /^2021[0-9]{12}$/);
  assert.deepEqual(json.notifyUrls, ['https://merchant.example/notify']);
  assert.match(json.platformPublicKey.pem, /BEGIN PUBLIC KEY/);
  const listed = await qianbao('openapi', 'app', 'list');
  assert.match(listed.stdout, new RegExp(json.appId));
  assert.equal((await app.openapi.apps.list()).length, 1);
});
