/**
 * Goal: the operator console at /admin in a real browser — its own log-in, reconciliation OK and
 * the balances' net at zero, user search; a wallet user's session opens none of it.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core; a screenshot on failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { buildWebIfMissing } from '../../src/http/web.ts';
import { createTestApp, signUpUser, type TestApp } from '../../src/testing/app.ts';
import { chromiumPath, launchChromium, saveScreenshot } from '../../src/testing/browser.ts';

const executable = await chromiumPath();
const skip = executable === undefined ? 'Chromium not found at /usr/bin/chromium (apt-get install -y chromium); browser tests did not run' : false;
if (skip !== false) process.stderr.write(`\n*** ${skip} ***\n\n`);

let t: TestApp;
let browser: Browser;
let baseUrl: string;
const password = 'operator-password-1';

before(async () => {
  if (executable === undefined) return;
  assert.ok(await buildWebIfMissing((line) => process.stderr.write(`${line}\n`)));
  t = await createTestApp({}, { clockStartMs: Date.now() });
  await t.app.operators.create({ username: 'console', password, role: 'admin' });
  baseUrl = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium(executable);
});
after(async () => {
  if (executable === undefined) return;
  await browser.close();
  await t.close();
});

test('an operator logs in at /admin and sees the ledger reconciled; a user session does not open it', { skip }, async () => {
  const user = await signUpUser(t.app, { pin: false, displayName: '测试' });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  try {
    await context.addCookies([{ name: 'qb_session', value: user.token, url: baseUrl }]);
    await page.goto(`${baseUrl}/admin`);
    await page.getByTestId('admin-login').waitFor();
    await page.locator('input[name=username]').fill('console');
    await page.locator('input[name=password]').fill(password);
    await page.getByTestId('admin-login').click();
    await page.getByText('OK —').waitFor();
    assert.equal(await page.getByTestId('net').first().innerText(), '0.00');
    await page.getByPlaceholder('mobile prefix').fill(user.mobile.slice(0, 7));
    await page.getByRole('button', { name: 'Search' }).first().click();
    await page.getByText(user.mobile).waitFor();
  } catch (error) {
    const file = await saveScreenshot(page, 'admin-console');
    throw new Error(`admin console failed (screenshot: ${file}): ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await context.close();
  }
});
