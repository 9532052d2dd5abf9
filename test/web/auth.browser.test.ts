/**
 * Goal: a person can use the web app in a real browser — sign up, see the home page with the
 * balance, switch to English and back, log out, and log in again; the session is an HttpOnly
 * cookie the page cannot read.
 * Method: the whole server (with the built web app) on a test schema, listening on a free
 * loopback port; Debian's Chromium driven by playwright-core, a 390×844 phone viewport. A failed
 * step saves a screenshot under .qianbao/screenshots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextMobile, testPassword } from '../../src/testing/app.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';

const { skip, harness } = await useBrowserApp();

test('sign up, home, language switch, log out and log in again', { skip }, async () => {
  const { browser, baseUrl } = harness();
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
