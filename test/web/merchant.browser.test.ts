/**
 * Goal: a customer and a shop in a real browser — the owner opens a shop; the customer pays it by
 * opening its receive QR's link and typing the amount, and by an order code's link (fixed amount),
 * both with the PIN pad; the shop charges the customer's payment code, a small amount at once and a
 * larger one confirmed by the customer with the PIN; the owner refunds part of a payment; both
 * read their bills; the ledger reconciles.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core, phone viewport, two browser contexts; each step saves a screenshot on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from '../../src/ledger/index.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import { signUpInBrowser, topUpInBrowser, typePin } from '../../src/testing/browser-wallet.ts';

const { skip, harness } = await useBrowserApp();
const customerPin = '802413';

test('pay a shop by QR, by order code and by payment code; refund; read the bills', { skip }, async () => {
  const { baseUrl } = harness();
  const alice = await signUpInBrowser(harness(), 'Alice', customerPin);
  const bob = await signUpInBrowser(harness(), 'Bob', '530861');
  await topUpInBrowser(alice.page, '500', customerPin);
  const shop = bob.page;
  const customer = alice.page;

  let receiveCode = '';
  await step(shop, 'open-shop', async () => {
    await shop.getByTestId('tile-shop').click();
    await shop.locator('input[name=shopName]').fill('老王面馆');
    await shop.getByTestId('open-shop').click();
    await shop.getByTestId('shop-name').filter({ hasText: '老王面馆' }).waitFor();
    receiveCode = await shop.getByTestId('shop-receive-code').innerText();
    assert.match(receiveCode, /^qb-shop:shop_/);
  });

  await step(customer, 'pay-by-receive-qr', async () => {
    await customer.goto(`${baseUrl}/#/pay?code=${encodeURIComponent(receiveCode)}`);
    await customer.getByTestId('pay-shop-name').filter({ hasText: '老王面馆' }).waitFor();
    await customer.locator('input[name=payAmount]').fill('25');
    await customer.getByTestId('pay-next').click();
    await typePin(customer, customerPin);
    await customer.getByTestId('pay-done').waitFor();
  });

  let orderLink = '';
  await step(shop, 'order-code', async () => {
    await shop.locator('input[name=orderAmount]').fill('12.50');
    await shop.getByTestId('create-order').click();
    orderLink = (await shop.getByTestId('order-link').getAttribute('href')) ?? '';
    assert.match(orderLink, /^\/#\/pay\?code=qb-order/);
  });
  await step(customer, 'pay-order-code', async () => {
    await customer.goto(`${baseUrl}${orderLink}`);
    await customer.getByTestId('pay-amount').filter({ hasText: '¥12.50' }).waitFor();
    await customer.getByTestId('pay-next').click();
    await typePin(customer, customerPin);
    await customer.getByTestId('pay-done').waitFor();
    await customer.getByRole('button', { name: '返回' }).click();
  });

  const chargeCode = async (yuan: string): Promise<void> => {
    await customer.getByTestId('action-payCode').click();
    const digits = (await customer.getByTestId('pay-code-digits').innerText()).replace(/\s+/g, '');
    assert.match(digits, /^28[0-9]{16}$/);
    await shop.locator('input[name=customerCode]').fill(digits);
    await shop.locator('input[name=chargeAmount]').fill(yuan);
    await shop.getByTestId('charge').click();
  };
  await step(shop, 'pay-code-small', async () => {
    await chargeCode('8');
    await shop.locator('[data-testid=charge-status][data-status=paid]').waitFor();
    await customer.getByRole('button', { name: '返回' }).click();
  });
  await step(customer, 'pay-code-confirm', async () => {
    await chargeCode('250');
    await shop.locator('[data-testid=charge-status][data-status=awaiting_pin]').waitFor();
    await customer.getByTestId('charge-confirm').getByText('¥250.00').waitFor();
    await customer.getByTestId('charge-confirm-pin').click();
    await typePin(customer, customerPin);
    await customer.getByTestId('pay-code-notice').filter({ hasText: '250.00' }).waitFor();
    await shop.locator('[data-testid=charge-status][data-status=paid]').waitFor();
    await customer.getByRole('button', { name: '返回' }).click();
  });

  await step(shop, 'refund', async () => {
    await shop.reload();
    await shop.getByTestId('shop-balance').filter({ hasText: '¥295.50' }).waitFor();
    const row = shop.getByTestId('incoming-payment').filter({ hasText: '¥25.00' });
    await row.getByTestId('refund-start').click();
    await row.locator('input[name=refundAmount]').fill('10');
    await row.getByTestId('refund-submit').click();
    await shop.getByTestId('shop-notice').filter({ hasText: '10.00' }).waitFor();
    await shop.getByTestId('shop-balance').filter({ hasText: '¥285.50' }).waitFor();
  });

  await step(customer, 'customer-bills', async () => {
    // 500 − 25 − 12.50 − 8 − 250 + 10 refunded.
    await customer.reload();
    await customer.getByTestId('balance').filter({ hasText: '¥214.50' }).waitFor();
    await customer.getByTestId('action-bills').click();
    const bills = customer.getByTestId('bills');
    await bills.getByText('老王面馆').first().waitFor();
    const text = await bills.innerText();
    assert.match(text, /退款/);
    assert.match(text, /\+10\.00/);
    assert.match(text, /-250\.00/);
    await bills.getByTestId('bill').filter({ hasText: '退款' }).click();
    await customer.getByTestId('bill-detail').getByText(/pay:[0-9a-f]{48}/).waitFor();
    assert.match(await customer.getByTestId('bill-detail').innerText(), /\+10\.00/);
  });
  assert.equal((await reconcile(harness().t.db.sql)).ok, true);
  await alice.context.close();
  await bob.context.close();
});
