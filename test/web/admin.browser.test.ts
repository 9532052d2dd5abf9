/**
 * Goal: the operator console at /admin in a real browser — its own log-in, reconciliation OK and
 * the balances' net at zero, user search; a wallet user's session opens none of it.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core; a screenshot on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUpUser } from '../../src/testing/app.ts';
import { saveScreenshot, useBrowserApp } from '../../src/testing/browser.ts';

const password = 'operator-password-1';
const { skip, harness } = await useBrowserApp(async (t) => {
  await t.app.operators.create({ username: 'console', password, role: 'admin' });
});

test('an operator logs in at /admin and sees the ledger reconciled; a user session does not open it', { skip }, async () => {
  const { t, browser, baseUrl } = harness();
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
