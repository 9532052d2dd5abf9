/**
 * Goal: the open platform's web parts (issue 7) in a real browser, driven by the official
 * alipay-sdk. An ISV precreates a ¥12.50 trade; a signed-in payer opens its qr_code link and sees,
 * before any PIN, the app's name, the merchant's shop, the subject and ¥12.50; she pays with the
 * PIN pad and sees the result; the SDK's query says TRADE_SUCCESS and reopening the link shows the
 * trade paid with no pay button. The scan page takes a pasted cashier link or a bare 28-digit trade
 * number to the cashier; the link opened signed out asks to log in and, after logging in, is the
 * cashier again; a trade the ISV closed shows its state and no pay button; a page-pay trade, paid,
 * offers 返回商户 to the merchant's return_url with the result. In the console's
 * 开放平台 · Open platform page an operator is refused a key that is not RSA (the server's detail
 * shown), registers an app by pasting a generated public key, sees it in the list, reads and
 * downloads the platform key in both forms — the shown key is the one that verifies the SDK's
 * responses — creates sandbox accounts (the credentials log in, and are gone after a reload), sees
 * the app's metering per method, and in the delivery log a notification its server refused, re-sends
 * it and sees it delivered. The ledger reconciles.
 * Method: the whole server with the built web app on a test schema (its fake clock follows real
 * time: the gateway accepts the SDK's timestamps only within 5 minutes of its now); apps set up
 * through the app objects or the console; the SDK as the ISV's client against the listening
 * server; a local listener as the ISV's notify endpoint; Debian's Chromium through
 * playwright-core; every wait is for an element or a state, never a sleep; each step saves a
 * screenshot on failure.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { AlipaySdk } from 'alipay-sdk';
import type { Locator, Page } from 'playwright-core';
import { reconcile } from '../../src/ledger/index.ts';
import { fundedUser, newUser } from '../../src/payments/testing.ts';
import { asUser, signUpUser, testPassword, testPin } from '../../src/testing/app.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import { followRealTime, operatorInBrowser, signUpInBrowser, topUpInBrowser, typePin } from '../../src/testing/browser-wallet.ts';

const operatorPassword = 'operator-password-1';
const appName = '咖啡小程序 Coffee';
const shopName = '老王咖啡';
const consoleAppName = '面包小程序 Bakery';
const pin = '802413';
const refreshesMax = 20;

/** An ISV's RSA-2048 key pair: the private half as the SDK takes it, the public half as SPKI PEM. */
function isvKeys(): { readonly privatePem: string; readonly publicPem: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const setupKeys = isvKeys();
let setupAppId = '';
let setupPlatformKey = '';

// The gateway takes the SDK's real-time timestamps only within 5 minutes of the app's clock.
let stopClock = (): void => undefined;
after(() => {
  stopClock();
});

const { skip, harness } = await useBrowserApp(async (t) => {
  stopClock = followRealTime(t.clock);
  const admin = await t.app.operators.create({ username: 'platform', password: operatorPassword, role: 'admin' });
  // The merchant's own shop, so the cashier names both the app and the merchant behind it.
  const merchant = await signUpUser(t.app, { pin: false, displayName: '老王' });
  const shop = await asUser(t.app, merchant, 'POST', '/v1/shops', { name: shopName });
  assert.equal(shop.statusCode, 201, shop.body);
  const created = await t.app.openapi.apps.create(admin.id, { name: appName, ownerUserId: merchant.id, appPublicKey: setupKeys.publicPem, notifyUrls: [] });
  setupAppId = created.app.app_id;
  setupPlatformKey = created.platformPublicKey.base64;
});

function sdkFor(baseUrl: string, appId: string, privatePem: string, platformKey: string): AlipaySdk {
  return new AlipaySdk({ appId, privateKey: privatePem, alipayPublicKey: platformKey, gateway: `${baseUrl}/gateway.do`, endpoint: baseUrl });
}

let outTradeSeq = 0;
function nextOutTradeNo(): string {
  outTradeSeq += 1;
  return `W${String(Date.now())}${String(outTradeSeq)}`;
}

/** Precreates a trade through the SDK (response signature checked); answers its cashier link and trade number. */
async function precreate(sdk: AlipaySdk, outTradeNo: string, totalAmount: string, subject: string, notifyUrl?: string): Promise<{ readonly qrCode: string; readonly tradeNo: string }> {
  const answer = await sdk.exec('alipay.trade.precreate', { bizContent: { outTradeNo, totalAmount, subject }, ...(notifyUrl === undefined ? {} : { notifyUrl }) }, { validateSign: true });
  assert.equal(answer.code, '10000', JSON.stringify(answer));
  const qrCode = String(answer['qrCode']);
  const match = /#\/trade\/([0-9]{28})$/.exec(qrCode);
  assert.ok(match?.[1] !== undefined, `a cashier link: ${qrCode}`);
  return { qrCode, tradeNo: match[1] };
}

/** Clicks `refresh` until `locator` shows (what a background pass writes), at most `refreshesMax` times. */
async function refreshUntil(refresh: Locator, locator: Locator): Promise<void> {
  for (let count = 0; count < refreshesMax; count++) {
    await refresh.click();
    try {
      await locator.first().waitFor({ timeout: 1000 });
      return;
    } catch {
      // Not there yet: ask again.
    }
  }
  await locator.first().waitFor({ timeout: 1000 });
}

/** Clicks a download link and answers the downloaded file's text. */
async function downloadText(page: Page, link: Locator): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = await download.path();
  return readFile(file, 'utf8');
}

test('an ISV precreates a trade; the payer sees the app and ¥12.50 before the PIN, pays at the cashier, and the SDK reads TRADE_SUCCESS', { skip }, async () => {
  const { t, baseUrl } = harness();
  const sdk = sdkFor(baseUrl, setupAppId, setupKeys.privatePem, setupPlatformKey);
  const mei = await signUpInBrowser(harness(), 'Mei', pin);
  const page = mei.page;
  await topUpInBrowser(page, '100', pin);
  const outTradeNo = nextOutTradeNo();
  const trade = await precreate(sdk, outTradeNo, '12.50', '拿铁 Latte');

  await step(page, 'cashier-before-the-pin', async () => {
    await page.goto(trade.qrCode);
    await page.getByTestId('trade-app-name').filter({ hasText: appName }).waitFor();
    assert.equal(await page.getByTestId('trade-amount').innerText(), '¥12.50');
    assert.equal(await page.getByTestId('trade-merchant').innerText(), `商户：${shopName}`);
    assert.equal(await page.getByTestId('trade-subject').innerText(), '拿铁 Latte');
    assert.equal(await page.getByTestId('pin-dots').count(), 0, 'no PIN pad before the payer presses pay');
  });

  await step(page, 'pay-with-the-pin-pad', async () => {
    await page.getByTestId('trade-pay').click();
    await page.getByTestId('pin-dots').waitFor();
    await typePin(page, pin);
    const done = page.getByTestId('trade-done');
    await done.filter({ hasText: '付款成功' }).waitFor();
    assert.equal(await page.getByTestId('trade-done-amount').innerText(), '¥12.50');
    assert.equal(await page.getByTestId('trade-return').count(), 0, 'a precreate carries no return_url');
  });

  const query = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } }, { validateSign: true });
  assert.deepEqual([query.code, query['tradeStatus'], query['totalAmount'], query['tradeNo']], ['10000', 'TRADE_SUCCESS', '12.50', trade.tradeNo]);

  await step(page, 'a-paid-trade-shows-its-state', async () => {
    await page.reload();
    await page.locator('[data-testid="trade"][data-status="TRADE_SUCCESS"]').waitFor();
    assert.equal(await page.getByTestId('trade-state').innerText(), '该交易已付款');
    assert.equal(await page.getByTestId('trade-pay').count(), 0);
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByTestId('balance').filter({ hasText: '¥87.50' }).waitFor();
  });

  const second = await precreate(sdk, nextOutTradeNo(), '3.00', '可颂 Croissant');
  await step(page, 'scan-takes-a-pasted-link-and-a-bare-trade-number', async () => {
    await page.getByTestId('action-scan').click();
    await page.locator('input[name=payTargetCode]').fill(second.qrCode);
    await page.getByTestId('pay-lookup').click();
    await page.locator('[data-testid="trade"][data-status="WAIT_BUYER_PAY"]').filter({ hasText: '¥3.00' }).waitFor();
    assert.equal(await page.getByTestId('trade-app-name').innerText(), appName);
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByTestId('action-scan').click();
    await page.locator('input[name=payTargetCode]').fill(` ${second.tradeNo} `);
    await page.getByTestId('pay-lookup').click();
    await page.getByTestId('trade-subject').filter({ hasText: '可颂 Croissant' }).waitFor();
    assert.match(page.url(), new RegExp(`#/trade/${second.tradeNo}$`));
  });

  await step(page, 'a-link-opened-signed-out-comes-back-after-log-in', async () => {
    const context = await harness().browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    try {
      const fresh = await context.newPage();
      await fresh.goto(second.qrCode);
      await fresh.getByTestId('auth-notice').filter({ hasText: '登录后继续付款' }).waitFor();
      await fresh.locator('input[name=mobile]').fill(mei.mobile);
      await fresh.locator('input[name=password]').fill(testPassword);
      await fresh.getByTestId('submit').click();
      await fresh.getByTestId('trade-subject').filter({ hasText: '可颂 Croissant' }).waitFor();
      await fresh.getByTestId('trade-pay').waitFor();
    } finally {
      await context.close();
    }
  });

  const closed = await sdk.exec('alipay.trade.close', { bizContent: { tradeNo: second.tradeNo } }, { validateSign: true });
  assert.equal(closed.code, '10000', JSON.stringify(closed));
  await step(page, 'a-closed-trade-has-no-pay-button', async () => {
    await page.reload();
    await page.locator('[data-testid="trade"][data-status="TRADE_CLOSED"]').waitFor();
    assert.equal(await page.getByTestId('trade-state').innerText(), '该交易已关闭，不能付款');
    assert.equal(await page.getByTestId('trade-pay').count(), 0);
  });
  const returnUrl = 'https://merchant.example/return';
  const pageOutTradeNo = nextOutTradeNo();
  const pagePayUrl = sdk.pageExecute('alipay.trade.page.pay', 'GET', { bizContent: { outTradeNo: pageOutTradeNo, totalAmount: '9.90', subject: '网页支付', productCode: 'FAST_INSTANT_TRADE_PAY' }, returnUrl });
  await step(page, 'page-pay-leads-back-to-the-merchant', async () => {
    await page.goto(pagePayUrl);
    await page.getByTestId('trade-amount').filter({ hasText: '¥9.90' }).waitFor();
    await page.getByTestId('trade-pay').click();
    await typePin(page, pin);
    const back = page.getByTestId('trade-return');
    await back.filter({ hasText: '返回商户' }).waitFor();
    const href = new URL((await back.getAttribute('href')) ?? '');
    assert.equal(`${href.origin}${href.pathname}`, returnUrl);
    assert.equal(href.searchParams.get('out_trade_no'), pageOutTradeNo);
  });
  await mei.context.close();
  const report = await reconcile(t.db.sql);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
});

test('the console registers an app from a pasted key, shows and downloads its platform key, creates sandbox accounts, and re-sends a refused notification', { skip }, async () => {
  const { t, baseUrl } = harness();
  let notifyAnswer = 'fail';
  const listener: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end(notifyAnswer));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  assert.ok(address !== null && typeof address === 'object');
  const notifyUrl = `http://127.0.0.1:${String(address.port)}/notify`;
  const owner = await signUpUser(t.app, { pin: false, displayName: '面包店' });
  const keys = isvKeys();
  const operator = await operatorInBrowser(harness(), 'platform', operatorPassword);
  const page = operator.page;
  try {
    let appId = '';
    let platformKey = '';
    await step(page, 'register-an-app', async () => {
      await page.getByTestId('admin-nav-openapi').click();
      const form = page.getByTestId('openapi-form');
      await form.locator('input[name=appName]').fill(consoleAppName);
      await form.locator('input[name=appOwner]').fill(owner.id);
      await form.locator('textarea[name=appNotifyUrls]').fill(notifyUrl);
      await form.locator('input[name=appRate]').fill('50');
      // Not a key: refused with the server's own detail, nothing registered.
      await form.locator('textarea[name=appPublicKey]').fill('A'.repeat(200));
      await form.getByTestId('openapi-register').click();
      await page.getByTestId('openapi-error').filter({ hasText: 'RSA' }).waitFor();
      await form.locator('textarea[name=appPublicKey]').fill(keys.publicPem);
      await form.getByTestId('openapi-register').click();
      const registered = page.getByTestId('openapi-registered');
      await registered.waitFor();
      appId = await registered.getByTestId('openapi-registered-app-id').innerText();
      assert.match(appId, /^[0-9]{16}$/);
      const pem = await registered.getByTestId('openapi-key-pem').innerText();
      platformKey = await registered.getByTestId('openapi-key-base64').innerText();
      assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
      assert.equal(pem.replace(/-----[A-Z ]+-----|\s/g, ''), platformKey);
      const row = page.locator(`[data-testid="openapi-app"][data-app-id="${appId}"]`);
      await row.filter({ hasText: consoleAppName }).waitFor();
      assert.match(await row.innerText(), /50 calls a second/);
      assert.equal(await page.getByTestId('openapi-app').count(), 2);
    });

    const row = page.locator(`[data-testid="openapi-app"][data-app-id="${appId}"]`);
    await step(page, 'download-the-platform-key', async () => {
      const pem = await downloadText(page, row.getByTestId('openapi-key-pem-download'));
      assert.equal(pem.replace(/-----[A-Z ]+-----|\s/g, ''), platformKey);
      assert.equal((await downloadText(page, row.getByTestId('openapi-key-base64-download'))).trim(), platformKey);
      await row.getByTestId('openapi-key-toggle').click();
      assert.equal(await row.getByTestId('openapi-key-base64').innerText(), platformKey);
    });

    // The key the console showed is the one that verifies this app's responses.
    const sdk = sdkFor(baseUrl, appId, keys.privatePem, platformKey);
    const outTradeNo = nextOutTradeNo();
    const trade = await precreate(sdk, outTradeNo, '8.00', '法棍 Baguette', notifyUrl);
    const buyer = await newUser(t.app, { displayName: 'Buyer' });
    await fundedUser(t.app, buyer, 10_000n);
    const paid = await asUser(t.app, buyer, 'POST', `/v1/trades/${trade.tradeNo}/pay`, { pin: testPin });
    assert.equal(paid.statusCode, 201, paid.body);
    await t.app.openapi.runPass();

    await step(page, 'metering-per-method', async () => {
      await refreshUntil(page.getByTestId('openapi-refresh'), row.locator('[data-testid="metering-method"][data-method="alipay.trade.precreate"]'));
      assert.equal(await row.getByTestId('metering-calls').innerText(), '1');
      assert.equal(await row.getByTestId('metering-error-rate').innerText(), '0.0%');
      assert.match(await row.getByTestId('metering-p99').innerText(), /^[0-9]+ ms$/);
    });

    await step(page, 'sandbox-accounts-shown-once', async () => {
      await row.getByTestId('openapi-sandbox-create').click();
      const card = row.getByTestId('openapi-sandbox');
      await card.waitFor();
      const mobile = await card.getByTestId('sandbox-mobile').innerText();
      const password = await card.getByTestId('sandbox-password').innerText();
      assert.match(mobile, /^170[0-9]{8}$/);
      assert.match(await card.getByTestId('sandbox-pin').innerText(), /^[0-9]{6}$/);
      assert.match(await card.getByTestId('sandbox-buyer-id').innerText(), /^2088[0-9]{12}$/);
      assert.equal(await card.getByTestId('sandbox-balance').innerText(), '¥10000.00');
      const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile, password } });
      assert.equal(login.statusCode, 200, login.body);
      await page.reload();
      await row.waitFor();
      assert.equal(await page.getByTestId('openapi-sandbox').count(), 0);
    });

    await step(page, 'a-refused-notification-re-sent', async () => {
      await row.getByTestId('openapi-notifications-toggle').click();
      const log = row.getByTestId('openapi-notifications');
      const refused = log.locator('[data-testid="notification-row"][data-status="pending"]').filter({ hasText: trade.tradeNo });
      await refreshUntil(log.getByTestId('notifications-refresh'), refused);
      assert.match(await refused.innerText(), /TRADE_SUCCESS[\s\S]*pending\s+1\s+200 fail/);
      notifyAnswer = 'success';
      await refused.getByTestId('notification-resend').click();
      await log.getByRole('status').filter({ hasText: 'queued' }).waitFor();
      await t.app.openapi.runPass();
      const delivered = log.locator('[data-testid="notification-row"][data-status="delivered"]').filter({ hasText: trade.tradeNo });
      await refreshUntil(log.getByTestId('notifications-refresh'), delivered);
      assert.match(await delivered.innerText(), /delivered\s+2\s+200 success/);
    });
  } finally {
    await operator.context.close();
    listener.close();
  }
  const report = await reconcile(t.db.sql);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
});
