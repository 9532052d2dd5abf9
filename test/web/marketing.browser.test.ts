/**
 * Goal: a marketing campaign from the console to a discounted bill, in a real browser — an author
 * writes a 20%-off campaign in 营销 · Marketing and is first refused for leaving out the per-order
 * cap (the server's message stands next to the cap's field), adds the cap, runs the dry run over
 * the last day's payments (a ¥30 shop payment made before: one shop_qr payment, ¥6.00) and submits
 * it; the author cannot approve it (four eyes); a second operator reads the exposure, is refused
 * while the platform fund is empty, deposits into it and approves by typing the exposure back. The
 * customer (on the campaign's test list) opens the shop's pay link, types ¥80 and sees 平台优惠
 * −¥16.00 and 实付 ¥64.00 before the PIN, pays, and her bill shows ¥80.00 struck through, the
 * discount and ¥64.00 paid; the burn chart and the incident report show the ¥16.00. Then, while
 * she looks at the next offer, an operator engages the kill switch: her PIN pays nothing, the page
 * says the discount changed (优惠已变化) and shows the full price, which she confirms and pays. The
 * ledger reconciles.
 * Method: the whole server with the built web app on a test schema; the app's fake clock follows
 * real time (the campaign's window is typed by the wall clock the browser reads); Debian's
 * Chromium through playwright-core, one context each; each step saves a screenshot on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from '../../src/ledger/index.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import { followRealTime, operatorInBrowser, signUpInBrowser, topUpInBrowser, typePin } from '../../src/testing/browser-wallet.ts';

const operatorPassword = 'operator-password-1';
const { skip, harness } = await useBrowserApp(async (t) => {
  await t.app.operators.create({ username: 'author', password: operatorPassword, role: 'operator' });
  await t.app.operators.create({ username: 'approver', password: operatorPassword, role: 'operator' });
});

const customerPin = '802413';
const shopName = '老王面馆';
const campaignName = '周末八折';

test('a campaign is written, refused without a cap, dry-run, approved by a second operator; the customer sees the offer before the PIN and the discount on her bill', { skip }, async () => {
  const { t, baseUrl } = harness();
  const stopClock = followRealTime(t.clock);
  try {
    const mei = await signUpInBrowser(harness(), 'Mei', customerPin);
    const wang = await signUpInBrowser(harness(), 'Wang', '530861');
    await topUpInBrowser(mei.page, '500', customerPin);

    let payLink = '';
    await step(wang.page, 'open-shop', async () => {
      const page = wang.page;
      await page.getByTestId('tile-shop').click();
      await page.locator('input[name=shopName]').fill(shopName);
      await page.getByTestId('open-shop').click();
      await page.getByTestId('shop-name').filter({ hasText: shopName }).waitFor();
      const receiveCode = await page.getByTestId('shop-receive-code').innerText();
      payLink = `${baseUrl}/#/pay?code=${encodeURIComponent(receiveCode)}`;
    });

    await step(mei.page, 'pay-before-any-campaign', async () => {
      // No campaign yet: no offer, straight to the PIN. This payment is what the dry run replays.
      const page = mei.page;
      await page.goto(payLink);
      await page.getByTestId('pay-shop-name').filter({ hasText: shopName }).waitFor();
      await page.locator('input[name=payAmount]').fill('30');
      await page.getByTestId('pay-next').click();
      await page.getByTestId('pin-dots').waitFor();
      assert.equal(await page.getByTestId('pay-offer').count(), 0);
      await typePin(page, customerPin);
      await page.getByTestId('pay-done').filter({ hasText: '¥30.00' }).waitFor();
      await page.getByRole('button', { name: '返回' }).click();
      await page.getByTestId('balance').filter({ hasText: '¥470.00' }).waitFor();
    });

    const author = await operatorInBrowser(harness(), 'author', operatorPassword);
    let meiId = '';
    await step(author.page, 'author-finds-the-test-user', async () => {
      const page = author.page;
      await page.getByPlaceholder('mobile prefix').fill(mei.mobile);
      await page.getByRole('button', { name: 'Search' }).first().click();
      meiId = await page.getByTestId('admin-user').filter({ hasText: mei.mobile }).getByTestId('admin-user-id').innerText();
      assert.match(meiId, /^usr_/);
    });

    await step(author.page, 'author-is-refused-without-a-cap', async () => {
      const page = author.page;
      await page.getByTestId('admin-nav-marketing').click();
      await page.getByTestId('kill-switch-state').filter({ hasText: 'Released' }).waitFor();
      await page.getByTestId('campaign-new').click();
      const form = page.getByTestId('campaign-form');
      await form.locator('input[name=campaignName]').fill(campaignName);
      await form.locator('select[name=templateKind]').selectOption('percent');
      await form.locator('input[name=templatePercent]').fill('20');
      await form.locator('input[name=budgetAmount]').fill('1000');
      // Two uses a day, up to ¥50: room for the second payment below.
      await form.locator('input[name=perUserCountPerDay]').fill('2');
      await form.locator('input[name=perUserMinorPerDay]').fill('50');
      await form.locator('textarea[name=testUserIds]').fill(meiId);
      await form.getByTestId('campaign-save').click();
      // Guardrail 1: the server's message, next to the cap's own field.
      const capProblem = form.getByTestId('field-template.capMinor').getByTestId('field-problem');
      await capProblem.filter({ hasText: 'needs a per-order cap' }).waitFor();
      assert.match(await capProblem.innerText(), /set capMinor/);
      assert.equal(await form.getByTestId('field-problem').count(), 1, 'only the cap is wrong');
      assert.equal(await page.getByTestId('campaign-row').count(), 0, 'nothing was saved');
    });

    await step(author.page, 'author-saves-dry-runs-and-submits', async () => {
      const page = author.page;
      const form = page.getByTestId('campaign-form');
      await form.locator('input[name=templateCap]').fill('20');
      await form.getByTestId('campaign-save').click();
      const detail = page.getByTestId('campaign-detail');
      await detail.getByTestId('campaign-status').filter({ hasText: 'draft' }).waitFor();
      assert.equal(await detail.getByTestId('campaign-template').innerText(), '20% off, at most ¥20.00 an order');
      assert.equal(await detail.getByTestId('campaign-exposure').innerText(), '¥1,000.00');
      await page.getByTestId('campaign-row').filter({ hasText: campaignName }).waitFor();
      // The dry run replays the last day: Mei's ¥30 at the shop would have had ¥6.00 off.
      await detail.getByTestId('campaign-dry-run').click();
      const scene = detail.getByTestId('dry-run-scene').filter({ hasText: 'shop_qr' });
      await scene.waitFor();
      assert.deepEqual((await scene.locator('td').allInnerTexts()).map((text) => text.trim()), ['shop_qr', '1', '¥6.00']);
      await detail.getByTestId('campaign-submit').click();
      await detail.getByTestId('campaign-status').filter({ hasText: 'pending_approval' }).waitFor();
      // Four eyes: its author cannot approve it, whatever figure is typed.
      await detail.locator('input[name=confirmExposure]').fill('1000');
      await detail.getByTestId('campaign-approve').click();
      await detail.getByTestId('campaign-error').filter({ hasText: 'another operator must approve it' }).waitFor();
      await detail.getByTestId('campaign-status').filter({ hasText: 'pending_approval' }).waitFor();
    });

    const approver = await operatorInBrowser(harness(), 'approver', operatorPassword);
    await step(approver.page, 'approver-funds-and-approves', async () => {
      const page = approver.page;
      await page.getByTestId('admin-nav-marketing').click();
      await page.getByTestId('approval-item').filter({ hasText: campaignName }).getByTestId('approval-open').click();
      const detail = page.getByTestId('campaign-detail');
      const exposure = await detail.getByTestId('approve-exposure').innerText();
      assert.equal(exposure, '¥1,000.00');
      await detail.locator('input[name=confirmExposure]').fill(exposure);
      // The platform fund is empty: approval would fund the budget from it, so it is refused.
      await detail.getByTestId('campaign-approve').click();
      await detail.getByTestId('campaign-error').filter({ hasText: 'deposit into it first' }).waitFor();
      await page.locator('input[name=fundDeposit-platform]').fill('1000');
      await page.getByTestId('fund-deposit-platform').click();
      await page.getByTestId('fund-balance-platform').filter({ hasText: '¥1,000.00' }).waitFor();
      await detail.getByTestId('campaign-approve').click();
      await detail.getByTestId('campaign-status').filter({ hasText: 'active' }).waitFor();
      await detail.getByTestId('campaign-message').filter({ hasText: 'Approved' }).waitFor();
      // The budget left the fund for the campaign's own account; the live chart appears.
      await page.getByTestId('fund-balance-platform').filter({ hasText: '¥0.00' }).waitFor();
      await detail.getByTestId('burn-chart').waitFor();
      await detail.getByTestId('burn-summary').filter({ hasText: 'breaker at ¥' }).waitFor();
      await detail.getByTestId('campaign-event').filter({ hasText: 'activated' }).waitFor();
    });

    await step(mei.page, 'mei-sees-the-offer-and-pays', async () => {
      const page = mei.page;
      await page.goto(payLink);
      await page.getByTestId('pay-shop-name').filter({ hasText: shopName }).waitFor();
      await page.locator('input[name=payAmount]').fill('80');
      await page.getByTestId('pay-next').click();
      // Before the PIN: the label, what comes off and what is left to pay.
      const offer = page.getByTestId('pay-offer');
      await offer.waitFor();
      assert.equal(await offer.getByTestId('pay-offer-label').innerText(), '平台优惠');
      assert.equal(await offer.getByTestId('pay-offer-off').innerText(), '−¥16.00');
      assert.equal(await offer.getByTestId('pay-offer-pay').innerText(), '实付 ¥64.00');
      assert.equal(await page.getByTestId('pin-dots').count(), 0, 'the PIN pad waits for the payer to confirm the offer');
      await page.getByTestId('pay-next').filter({ hasText: '确认付款 ¥64.00' }).click();
      await typePin(page, customerPin);
      const done = page.getByTestId('pay-done');
      await done.filter({ hasText: '¥64.00' }).waitFor();
      assert.match(await done.getByTestId('pay-done-discount').innerText(), /¥80\.00 · 平台优惠 −¥16\.00/);
      await page.getByRole('button', { name: '返回' }).click();
    });

    await step(mei.page, 'mei-reads-the-bill', async () => {
      const page = mei.page;
      // ¥500 − ¥30 − ¥64.
      await page.getByTestId('balance').filter({ hasText: '¥406.00' }).waitFor();
      await page.getByTestId('action-bills').click();
      const bill = page.getByTestId('bill').filter({ hasText: shopName }).filter({ has: page.getByTestId('bill-discount') });
      await bill.waitFor();
      assert.equal(await bill.getByTestId('bill-discount').innerText(), '平台优惠 −¥16.00');
      assert.equal(await bill.getByTestId('bill-gross').innerText(), '80.00');
      assert.match(await bill.innerText(), /-64\.00/);
      await bill.click();
      const detail = page.getByTestId('bill-detail');
      assert.equal(await detail.getByTestId('bill-detail-gross').innerText(), '¥80.00');
      assert.equal(await detail.getByTestId('bill-detail-label').innerText(), '平台优惠');
      assert.equal(await detail.getByTestId('bill-detail-off').innerText(), '−¥16.00');
      assert.equal(await detail.getByTestId('bill-detail-paid').innerText(), '¥64.00');
    });

    await step(approver.page, 'approver-reads-the-burn-and-the-report', async () => {
      const detail = approver.page.getByTestId('campaign-detail');
      // The burn chart reads again every 2 s while the campaign runs.
      await detail.getByTestId('burn-summary').filter({ hasText: '¥16.00 in the last hour' }).waitFor();
      await detail.getByTestId('campaign-report-open').click();
      const report = detail.getByTestId('campaign-report');
      await report.getByTestId('report-payment').filter({ hasText: '¥16.00' }).waitFor();
      assert.equal(await report.getByTestId('report-payment').count(), 1);
      assert.match(await report.innerText(), /¥16\.00 in 1 payments · budget left ¥984\.00/);
    });

    await step(mei.page, 'the-offer-changes-before-the-pin', async () => {
      const page = mei.page;
      await page.goto(payLink);
      await page.locator('input[name=payAmount]').fill('50');
      await page.getByTestId('pay-next').click();
      await page.getByTestId('pay-offer-pay').filter({ hasText: '实付 ¥40.00' }).waitFor();
      // While Mei looks at the offer, an operator stops every discount.
      const operatorPage = approver.page;
      await operatorPage.locator('input[name=killSwitchReason]').fill('offer-change test');
      await operatorPage.getByTestId('kill-switch-toggle').click();
      await operatorPage.getByTestId('kill-switch-state').filter({ hasText: 'ENGAGED' }).waitFor();
      // Checkout reads the switch on its next refresh: one that starts now, after the switch.
      await t.app.engine.refresh();
      await t.app.engine.refresh();
      await page.getByTestId('pay-next').click();
      await typePin(page, customerPin);
      // Nothing was paid: the page says the discount changed and shows the price as it is now.
      await page.getByTestId('pay-error').filter({ hasText: '优惠已变化' }).waitFor();
      await page.getByTestId('pay-offer').waitFor({ state: 'detached' });
      await page.getByTestId('pay-next').filter({ hasText: /^付款$/ }).click();
      await typePin(page, customerPin);
      await page.getByTestId('pay-done').filter({ hasText: '¥50.00' }).waitFor();
      assert.equal(await page.getByTestId('pay-done-discount').count(), 0);
      await page.getByRole('button', { name: '返回' }).click();
      // ¥500 − ¥30 − ¥64 − ¥50.
      await page.getByTestId('balance').filter({ hasText: '¥356.00' }).waitFor();
      // 我的券 is a tile on the home page; this campaign issued no vouchers.
      await page.getByTestId('tile-vouchers').click();
      await page.getByTestId('vouchers').waitFor({ state: 'attached' });
      await page.getByText('还没有券').waitFor();
    });

    assert.equal((await reconcile(t.db.sql)).ok, true);
    await mei.context.close();
    await wang.context.close();
    await author.context.close();
    await approver.context.close();
  } finally {
    stopClock();
  }
});
