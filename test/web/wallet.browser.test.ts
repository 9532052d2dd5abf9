/**
 * Goal: two people use the wallet in a real browser — sign up, set the payment PIN, befriend each
 * other, bind a card and top up with the PIN pad, transfer to each other with a memo and the PIN pad, and read their
 * bills (with the month's chart); a wrong PIN is refused and moves nothing.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core, phone viewport; each step saves a screenshot when it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { reconcile } from '../../src/ledger/index.ts';
import { nextMobile, testPassword } from '../../src/testing/app.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';

const { skip, harness } = await useBrowserApp();

async function typePin(page: Page, pin: string): Promise<void> {
  for (const digit of pin) await page.getByTestId(`pin-${digit}`).click();
}

async function newUser(name: string, pin: string): Promise<{ context: BrowserContext; page: Page; mobile: string }> {
  const { browser, baseUrl } = harness();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const mobile = nextMobile();
  await step(page, `${name}-sign-up`, async () => {
    await page.goto(baseUrl);
    await page.getByTestId('switch-mode').click();
    await page.locator('input[name=mobile]').fill(mobile);
    await page.locator('input[name=password]').fill(testPassword);
    await page.locator('input[name=displayName]').fill(name);
    await page.getByTestId('submit').click();
    await page.getByTestId('set-pin').click();
    await page.locator('input[name=pin]').fill(pin);
    await page.locator('input[name=password]').fill(testPassword);
    await page.getByTestId('save-pin').click();
    await page.getByTestId('balance').waitFor();
  });
  return { context, page, mobile };
}

test('sign up, befriend, top up, transfer with the PIN pad, read the bills', { skip }, async () => {
  const alice = await newUser('Alice', '802413');
  const bob = await newUser('Bob', '530861');
  await step(alice.page, 'befriend', async () => {
    await alice.page.getByTestId('tile-friends').click();
    await alice.page.locator('input[name=friendMobile]').fill(bob.mobile);
    await alice.page.getByTestId('add-friend').click();
    await alice.page.getByRole('status').waitFor();
    await bob.page.getByTestId('tile-friends').click();
    await bob.page.getByTestId('accept-friend').click();
    await bob.page.getByTestId('friend-list').getByText('Alice').waitFor();
    await alice.page.reload();
    await alice.page.getByTestId('friend-list').getByText('Bob').waitFor();
    await alice.page.getByRole('button', { name: '返回' }).click();
    await bob.page.getByRole('button', { name: '返回' }).click();
  });
  await step(alice.page, 'top-up', async () => {
    await alice.page.getByTestId('action-topup').click();
    await alice.page.locator('input[name=last4]').fill('6222');
    await alice.page.getByTestId('bind-card').click();
    await alice.page.locator('select[name=card] option').first().waitFor({ state: 'attached' });
    await alice.page.locator('input[name=amount]').fill('500');
    await alice.page.getByTestId('topup-next').click();
    await typePin(alice.page, '802413');
    await alice.page.getByTestId('topup-done').waitFor();
    await alice.page.getByRole('button', { name: '返回' }).click();
    await alice.page.getByText('¥500.00').first().waitFor();
  });
  await step(alice.page, 'wrong-pin', async () => {
    await alice.page.getByTestId('action-transfer').click();
    await alice.page.locator('input[name=toMobile]').fill(bob.mobile);
    await alice.page.locator('input[name=amount]').fill('88.80');
    await alice.page.locator('input[name=memo]').fill('午饭');
    await alice.page.getByTestId('transfer-next').click();
    await typePin(alice.page, '111112');
    await alice.page.getByRole('alert').waitFor();
  });
  await step(alice.page, 'transfer', async () => {
    await alice.page.getByTestId('transfer-next').click();
    await typePin(alice.page, '802413');
    await alice.page.getByTestId('transfer-done').waitFor();
    await alice.page.getByRole('button', { name: '返回' }).click();
    // The home page refreshes the balance after navigation; wait for the new figure.
    await alice.page.getByTestId('balance').filter({ hasText: '¥411.20' }).waitFor();
  });
  await step(bob.page, 'bob-bills', async () => {
    await bob.page.reload();
    await bob.page.getByTestId('balance').filter({ hasText: '¥88.80' }).waitFor();
    await bob.page.getByTestId('action-bills').click();
    await bob.page.getByTestId('bills').getByText('午饭').waitFor();
    assert.match(await bob.page.getByTestId('bills').innerText(), /\+88\.80/);
  });
  await step(alice.page, 'alice-bills', async () => {
    await alice.page.getByTestId('action-bills').click();
    await alice.page.getByTestId('summary').waitFor();
    assert.match(await alice.page.getByTestId('summary').innerText(), /88\.80/);
    await alice.page.getByTestId('spending-chart').waitFor();
  });
  assert.equal((await reconcile(harness().t.db.sql)).ok, true);
  await alice.context.close();
  await bob.context.close();
});
