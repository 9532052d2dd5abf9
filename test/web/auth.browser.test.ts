/**
 * Goal: a person can use the web app in a real browser — sign up, see the home page with the
 * balance, switch to English and back, log out, and log in again; the session is an HttpOnly
 * cookie the page cannot read.
 * Method: the whole server (with the built web app) on a test schema, listening on a free
 * loopback port; Debian's Chromium driven by playwright-core, a 390×844 phone viewport. A failed
 * step saves a screenshot under .qianbao/screenshots.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { buildWebIfMissing } from '../../src/http/web.ts';
import { createTestApp, nextMobile, testPassword, type TestApp } from '../../src/testing/app.ts';
import { chromiumPath, launchChromium, saveScreenshot } from '../../src/testing/browser.ts';

const executable = await chromiumPath();
const skip = executable === undefined ? `Chromium not found at /usr/bin/chromium (apt-get install -y chromium); browser tests did not run` : false;
if (skip !== false) process.stderr.write(`\n*** ${skip} ***\n\n`);

let t: TestApp;
let browser: Browser;
let baseUrl: string;

before(async () => {
  if (executable === undefined) return;
  assert.ok(await buildWebIfMissing((line) => process.stderr.write(`${line}\n`)), 'the web app builds');
  t = await createTestApp({}, { clockStartMs: Date.now() });
  baseUrl = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium(executable);
});
after(async () => {
  if (executable === undefined) return;
  await browser.close();
  await t.close();
});

async function step(page: Page, name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const file = await saveScreenshot(page, name);
    throw new Error(`${name} failed (screenshot: ${file}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

test('sign up, home, language switch, log out and log in again', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const mobile = nextMobile();
  await step(page, 'sign-up', async () => {
    await page.goto(baseUrl);
    await page.getByTestId('switch-mode').click();
    await page.locator('input[name=mobile]').fill(mobile);
    await page.locator('input[name=password]').fill(testPassword);
    await page.locator('input[name=displayName]').fill('小明');
    await page.getByTestId('submit').click();
    await page.getByTestId('greeting').waitFor();
    assert.match(await page.getByTestId('greeting').innerText(), /你好，小明/);
    assert.equal(await page.getByTestId('balance').innerText(), '¥0.00');
  });
  await step(page, 'session-cookie', async () => {
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'qb_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(await page.evaluate('document.cookie.includes("qb_session")'), false);
  });
  await step(page, 'language', async () => {
    await page.getByTestId('lang').click();
    assert.equal(await page.getByTestId('logout').innerText(), 'Log out');
    await page.getByTestId('lang').click();
    assert.equal(await page.getByTestId('logout').innerText(), '退出登录');
  });
  await step(page, 'log-out-and-in', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('submit').waitFor();
    await page.locator('input[name=mobile]').fill(mobile);
    await page.locator('input[name=password]').fill('wrong-pass-1');
    await page.getByTestId('submit').click();
    await page.getByRole('alert').waitFor();
    await page.locator('input[name=password]').fill(testPassword);
    await page.getByTestId('submit').click();
    await page.getByTestId('greeting').waitFor();
  });
  await context.close();
});
