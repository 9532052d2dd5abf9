/**
 * Goal: two people use the wallet in a real browser — sign up, set the payment PIN, befriend each
 * other, form a group, bind a card and top up with the PIN pad, transfer to a friend picked from the list with a memo and the PIN pad, and read their
 * bills (with the month's chart); a wrong PIN is refused and moves nothing.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core, phone viewport; each step saves a screenshot when it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from '../../src/ledger/index.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import { signUpInBrowser, topUpInBrowser, typePin } from '../../src/testing/browser-wallet.ts';

const { skip, harness } = await useBrowserApp();

test('sign up, befriend, form a group, top up, transfer with the PIN pad, read the bills', { skip }, async () => {
  const alice = await signUpInBrowser(harness(), 'Alice', '802413');
  const bob = await signUpInBrowser(harness(), 'Bob', '530861');
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
  await step(alice.page, 'group', async () => {
    await alice.page.getByTestId('tile-groups').click();
    await alice.page.locator('input[name=groupName]').fill('午饭群');
    await alice.page.getByLabel('Bob').check();
    await alice.page.getByTestId('create-group').click();
    await alice.page.getByTestId('group-detail').getByTestId('group-member').filter({ hasText: 'Bob' }).waitFor();
    await alice.page.getByTestId('group').filter({ hasText: '午饭群 (2)' }).waitFor();
    await alice.page.getByRole('button', { name: '返回' }).click();
  });
  await topUpInBrowser(alice.page, '500', '802413');
  await alice.page.getByText('¥500.00').first().waitFor();
  await step(alice.page, 'wrong-pin', async () => {
    await alice.page.getByTestId('action-transfer').click();
    // Bob is picked from the friend list, not typed.
    await alice.page.locator('select[name=friend] option', { hasText: 'Bob' }).waitFor({ state: 'attached' });
    await alice.page.locator('select[name=friend]').selectOption({ label: `Bob ${bob.mobile.slice(0, 3)}****${bob.mobile.slice(-4)}` });
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
