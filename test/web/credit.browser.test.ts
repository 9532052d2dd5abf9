/**
 * Goal: credit with real consent (issue 6) in a real browser. An operator registers a partner in
 * the console's 合作方 · Partners page and sees its API key once (gone after a reload). A verified
 * user reads her score (a gauge from 350 to 950, each factor with its points) and shares it with that
 * partner through the consent dialog. At the demo bike rental she picks 信用免押: the dialog's box
 * starts unticked and its agree button disabled; ticking alone is not enough while the text is
 * longer than its box — only after scrolling to its end and ticking does the button enable. She
 * agrees, the rental is waived, she reports damage (¥50 from her balance); the grant shows live in
 * 授权管理 with the text she agreed to, she revokes it, and the next rental holds the ¥199 deposit,
 * which returning releases. Her bills name each deposit step. 谁用了我的数据 shows the one
 * allowed read (the partner checking her score at the waived rental) and no refusals. The annual
 * bill shows the ¥50 spent; sharing it asks for consent first (declining creates no link), and the
 * score on the card needs its own second consent; the public card opens without sign-in, and after
 * she revokes the publish grant it says the link is revoked. The ledger reconciles.
 * Method: the whole server with the built web app on a test schema; the demo partner registered
 * and the user's real name verified through the app objects; Debian's Chromium through
 * playwright-core (phone viewport for the user, a cookie-less context for the public card); every
 * wait is for an element or a state, never a sleep; each step saves a screenshot on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { demoPartnerName } from '../../src/credit/partner-routes.ts';
import { reconcile } from '../../src/ledger/index.ts';
import { idNumberFor } from '../../src/payments/testing.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import { operatorInBrowser, signUpInBrowser, topUpInBrowser } from '../../src/testing/browser-wallet.ts';

const operatorPassword = 'operator-password-1';
/** Met by a new verified user (565: identity 100 + refunds 80 + neutral 35) and not by an unverified one (465). */
const demoThreshold = 500;
const otherPartnerName = '街电充电宝';
const pin = '802413';

const { skip, harness } = await useBrowserApp(async (t) => {
  const admin = await t.app.operators.create({ username: 'partners', password: operatorPassword, role: 'admin' });
  await t.app.credit.partners.register(admin.id, { name: demoPartnerName, kind: 'bike', purposes: ['credit.score.share', 'credit.deposit_waiver', 'data.collect.payments'], scoreThreshold: demoThreshold });
});

/**
 * Agrees in the consent dialog for `purpose`: checks nothing is pre-ticked and the button starts
 * disabled; where the text is longer than its box (`mustScroll` asserts it is), that ticking alone
 * leaves it disabled until the text is scrolled to its end, and that unticking disables it again.
 */
async function agreeInDialog(page: Page, purpose: string, options: { readonly mustScroll?: boolean } = {}): Promise<void> {
  const dialog = page.locator(`[data-testid="consent-dialog"][data-purpose="${purpose}"]`);
  const text = dialog.getByTestId('consent-text');
  const check = dialog.getByTestId('consent-check');
  const agree = dialog.getByTestId('consent-agree');
  const enabledAgree = dialog.locator('[data-testid="consent-agree"]:enabled');
  await text.waitFor();
  assert.equal(await check.isChecked(), false, 'the box starts unticked');
  assert.equal(await agree.isDisabled(), true, 'agree starts disabled');
  // The dialog marks the end as read at once when the whole text fits in its box.
  const isLonger = (await text.getAttribute('data-read-to-end')) === 'false';
  if (options.mustScroll === true) assert.ok(isLonger, 'the text is longer than its box');
  await check.check();
  if (isLonger) {
    assert.equal(await agree.isDisabled(), true, 'ticked but not read to the end');
    await dialog.getByTestId('consent-scroll-hint').waitFor();
    await text.hover();
    await page.mouse.wheel(0, 10_000);
    await text.and(page.locator('[data-read-to-end="true"]')).waitFor();
    await check.uncheck();
    assert.equal(await agree.isDisabled(), true, 'read to the end but not ticked');
    await check.check();
  }
  await enabledAgree.waitFor();
  await agree.click();
  await dialog.waitFor({ state: 'detached' });
}

test('consent before every grant; a waived and a held deposit; who used my data; the annual bill shared and revoked', { skip }, async () => {
  const { t, browser } = harness();

  const operator = await operatorInBrowser(harness(), 'partners', operatorPassword);
  await step(operator.page, 'operator-registers-a-partner', async () => {
    const page = operator.page;
    await page.getByTestId('admin-nav-partners').click();
    const form = page.getByTestId('partner-form');
    await form.locator('input[name=partnerName]').fill(otherPartnerName);
    await form.locator('select[name=partnerKind]').selectOption('power_bank');
    await form.locator('input[name="partnerPurpose-credit.score.share"]').check();
    await form.locator('input[name=partnerThreshold]').fill('600');
    await form.getByTestId('partner-register').click();
    const key = page.getByTestId('partner-api-key');
    assert.match(await key.innerText(), /^qbp_[A-Za-z0-9_-]{32}$/);
    await page.getByTestId('partner-key-card').getByText('Copy it now').waitFor();
    const row = page.getByTestId('partner-row').filter({ hasText: otherPartnerName });
    await row.waitFor();
    assert.match(await row.innerText(), /power_bank\s+credit\.score\.share\s+600/);
    assert.doesNotMatch(await page.getByTestId('partners').innerText(), /qbp_/);
    // Shown once: the list never carries it, and a reload has nothing to show.
    await page.reload();
    await page.getByTestId('partner-row').filter({ hasText: otherPartnerName }).waitFor();
    await page.getByTestId('partner-row').filter({ hasText: demoPartnerName }).waitFor();
    assert.equal(await page.getByTestId('partner-api-key').count(), 0);
  });

  const lan = await signUpInBrowser(harness(), 'Lan', pin);
  const page = lan.page;
  await topUpInBrowser(page, '500', pin);
  const user = await t.app.identity.findByMobile(lan.mobile);
  assert.ok(user !== undefined);
  await t.app.identity.verifyRealName(user.id, { realName: '蓝天', idNumber: idNumberFor(601) });

  await step(page, 'credit-score-and-sharing-it', async () => {
    await page.getByTestId('tile-credit').click();
    const score = Number(await page.getByTestId('credit-score').innerText());
    assert.ok(score >= demoThreshold && score <= 950, `score ${String(score)}`);
    assert.equal(await page.getByTestId('credit-range').innerText(), '范围 350–950');
    const identity = page.locator('[data-testid="factor"][data-key="identity"]');
    assert.equal(await identity.getByTestId('factor-points').innerText(), '100/100 分');
    assert.equal(await page.getByTestId('factor').count(), 7);
    await page.locator('[data-testid="factor"][data-key="account_age"]').getByTestId('factor-improve').waitFor();
    await page.locator('select[name=sharePartner]').selectOption({ label: otherPartnerName });
    await page.getByTestId('share-scope-threshold').click();
    await page.getByTestId('share-score').click();
    await page.getByTestId('consent-partner').filter({ hasText: otherPartnerName }).waitFor();
    await agreeInDialog(page, 'credit.score.share');
    await page.getByTestId('share-score-done').filter({ hasText: otherPartnerName }).waitFor();
    await page.getByTestId('score-share').filter({ hasText: otherPartnerName }).waitFor();
    await page.getByRole('button', { name: '返回' }).click();
  });

  await step(page, 'rent-deposit-free-after-consent', async () => {
    await page.getByTestId('tile-depositFree').click();
    assert.equal(await page.getByTestId('bike-partner-name').innerText(), demoPartnerName);
    assert.match(await page.getByTestId('bike-threshold').innerText(), /500/);
    assert.equal(await page.getByTestId('bike-deposit').innerText(), '押金 ¥199.00');
    await page.getByTestId('bike-score').filter({ hasText: '已达到免押门槛' }).waitFor();
    await page.getByTestId('bike-rent-credit').click();
    await agreeInDialog(page, 'credit.deposit_waiver', { mustScroll: true });
    await page.locator('[data-testid="bike-result"][data-status="waived"]').waitFor();
    await page.getByTestId('bike-waiver-on').waitFor();
    const waived = page.locator('[data-testid="deposit"][data-status="waived"]');
    await waived.waitFor();
    assert.equal(await page.getByTestId('deposit').count(), 1);
    // The bike comes back damaged: ¥50 of the waived deposit is taken from the balance.
    await waived.getByTestId('deposit-damage').click();
    await page.locator('[data-testid="deposit"][data-status="charged"]').filter({ hasText: '已扣款 ¥50.00' }).waitFor();
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByTestId('balance').filter({ hasText: '¥450.00' }).waitFor();
  });

  await step(page, 'the-grant-is-live-then-revoked', async () => {
    await page.getByTestId('tile-consentCentre').click();
    const grant = page.locator('[data-testid="grant"][data-purpose="credit.deposit_waiver"]');
    await grant.and(page.locator('[data-state="live"]')).waitFor();
    assert.equal(await grant.getByTestId('grant-state').innerText(), '生效中');
    assert.equal(await grant.getByTestId('grant-partner').innerText(), `合作方：${demoPartnerName}`);
    await page.locator('[data-testid="grant"][data-purpose="credit.score.share"][data-state="live"]').filter({ hasText: otherPartnerName }).waitFor();
    await grant.getByTestId('grant-view-text').filter({ hasText: '第 1 版' }).click();
    await grant.getByTestId('grant-text').filter({ hasText: '免收押金' }).waitFor();
    await grant.getByTestId('grant-revoke').click();
    await grant.and(page.locator('[data-state="revoked"]')).waitFor();
    assert.equal(await grant.getByTestId('grant-state').innerText(), '已撤回');
    assert.equal(await grant.getByTestId('grant-revoke').count(), 0);
    await page.getByRole('button', { name: '返回' }).click();
  });

  await step(page, 'without-the-grant-the-deposit-is-held-then-returned', async () => {
    await page.getByTestId('tile-depositFree').click();
    // No live grant: both ways are offered again; paying the deposit needs no consent.
    await page.getByTestId('bike-rent-credit').waitFor();
    await page.getByTestId('bike-rent-deposit').click();
    const result = page.locator('[data-testid="bike-result"][data-status="held"]');
    await result.filter({ hasText: '¥199.00' }).waitFor();
    const held = page.locator('[data-testid="deposit"][data-status="held"]');
    assert.equal(await held.getByTestId('deposit-status').innerText(), '押金冻结 ¥199.00');
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByText('可用 ¥251.00').waitFor();
    await page.getByTestId('tile-depositFree').click();
    await held.getByTestId('deposit-return').click();
    await page.locator('[data-testid="deposit"][data-status="returned"]').waitFor();
    assert.equal(await held.count(), 0);
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByText('可用 ¥450.00').waitFor();
  });

  await step(page, 'the-bills-name-each-deposit-step', async () => {
    await page.getByTestId('action-bills').click();
    for (const label of ['免押', '押金冻结', '押金退还', '押金扣款']) await page.getByTestId('bill').filter({ hasText: `${label} · ${demoPartnerName}` }).first().waitFor();
    await page.getByRole('button', { name: '返回' }).click();
  });

  await step(page, 'who-used-my-data', async () => {
    await page.getByTestId('tile-dataUse').click();
    const entries = page.getByTestId('access-entry');
    await entries.first().waitFor();
    assert.equal(await entries.count(), 1);
    const entry = page.locator('[data-testid="access-entry"][data-outcome="allowed"][data-purpose="credit.deposit_waiver"]');
    assert.equal(await entry.getByTestId('access-accessor').innerText(), demoPartnerName);
    assert.equal(await entry.getByTestId('access-data').innerText(), '读取：信用分是否达到免押门槛');
    assert.equal(await page.locator('[data-testid="access-entry"][data-outcome="refused"]').count(), 0);
    await page.getByTestId('log-filter-refused').click();
    await page.getByTestId('access-none').waitFor();
    await page.getByRole('button', { name: '返回' }).click();
  });

  let shareUrl = '';
  await step(page, 'annual-bill-and-sharing-with-consent', async () => {
    await page.getByTestId('tile-annualBill').click();
    assert.equal(await page.getByTestId('annual-spent').innerText(), '¥50.00');
    await page.locator('[data-testid="annual-category"][data-kind="deposit_charge"]').filter({ hasText: '押金扣款' }).waitFor();
    await page.getByTestId('annual-category-chart').waitFor();
    await page.getByTestId('annual-month-chart').waitFor();
    await page.getByTestId('annual-forest').filter({ hasText: '敬请期待' }).waitFor();
    await page.getByTestId('annual-wealth').filter({ hasText: '敬请期待' }).waitFor();
    // No publish grant yet: the link waits for consent, and declining creates none.
    await page.getByTestId('annual-share-create').click();
    const publish = page.locator('[data-testid="consent-dialog"][data-purpose="annual_bill.publish"]');
    await publish.getByTestId('consent-text').waitFor();
    assert.equal(await page.getByTestId('annual-share-link').count(), 0);
    await publish.getByTestId('consent-decline').click();
    await page.getByTestId('annual-share-message').filter({ hasText: '未生成链接' }).waitFor();
    assert.equal(await page.getByTestId('annual-share-link').count(), 0);
    // With the score on the card: the publish consent, then the score's own.
    await page.getByTestId('annual-include-score').check();
    await page.getByTestId('annual-share-create').click();
    await agreeInDialog(page, 'annual_bill.publish');
    await agreeInDialog(page, 'annual_bill.publish_score');
    const link = page.getByTestId('annual-share-link');
    await link.waitFor();
    await page.getByTestId('annual-share-with-score').waitFor();
    shareUrl = (await link.getAttribute('href')) ?? '';
    assert.match(shareUrl, /\/#\/share\/[A-Za-z0-9_-]{32}$/);
    await page.getByRole('button', { name: '返回' }).click();
  });

  const visitor = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const card = await visitor.newPage();
  await step(card, 'the-public-card-opens-without-sign-in', async () => {
    await card.goto(shareUrl);
    await card.getByTestId('share-card').waitFor();
    assert.match(await card.getByTestId('share-title').innerText(), /^L\*\* 的 \d{4} 年度账单$/);
    assert.equal(await card.getByTestId('share-spent').innerText(), '¥50.00');
    await card.locator('[data-testid="share-category"][data-kind="deposit_charge"]').filter({ hasText: '100%' }).waitFor();
    assert.match(await card.getByTestId('share-score').innerText(), /信用分\s*\d{3}/);
    assert.equal(await card.getByTestId('balance').count(), 0, 'nothing of the wallet itself');
  });

  await step(page, 'revoking-the-publish-grant-kills-the-link', async () => {
    await page.getByTestId('tile-consentCentre').click();
    const grant = page.locator('[data-testid="grant"][data-purpose="annual_bill.publish"]');
    await grant.getByTestId('grant-revoke').click();
    await grant.and(page.locator('[data-state="revoked"]')).waitFor();
    await card.reload();
    await card.getByTestId('share-revoked').filter({ hasText: '链接已失效' }).waitFor();
    assert.equal(await card.getByTestId('share-card').count(), 0);
  });

  assert.equal((await reconcile(t.db.sql)).ok, true);
  await visitor.close();
  await lan.context.close();
  await operator.context.close();
});
