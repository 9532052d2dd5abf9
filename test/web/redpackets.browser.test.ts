/**
 * Goal: red packets between people in a real browser — Alice, Bob and Carol sign up and befriend;
 * Alice tops up, forms a group with Bob and Carol, and sends it a lucky packet (¥3.00 in 2 shares)
 * with the PIN pad; Bob and Carol each open it from their inbox and see what they got; Alice sees
 * both grabs with the 手气最佳 badge on the larger, the split's sha256 and the rule; Bob's bills
 * show the packet's income once it settles, and the bill opens the packet. Then a 1:1 packet to
 * Bob (a wrong PIN first, refused in Chinese) that Bob opens. The ledger reconciles.
 * Method: the whole server with the built web app on a test schema; Debian's Chromium through
 * playwright-core, phone viewport, one browser context each; each step saves a screenshot on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { reconcile } from '../../src/ledger/index.ts';
import { step, useBrowserApp } from '../../src/testing/browser.ts';
import {
  befriendInBrowser,
  createGroupInBrowser,
  signUpInBrowser,
  topUpInBrowser,
  typePin,
  waitWithReloads,
  type BrowserUser,
} from '../../src/testing/browser-wallet.ts';

const { skip, harness } = await useBrowserApp();
const alicePin = '802413';

/** "¥1,234.56" → 123456 (fen), for sums in the test only. */
function fenOf(text: string): number {
  const match = /¥([0-9,]+)\.([0-9]{2})/.exec(text);
  assert.ok(match !== null, `an amount in ${text}`);
  return Number(`${match[1]!.replace(/,/g, '')}${match[2]!}`);
}

/** From the red packets page: the send form filled in; the caller types the PIN. */
async function fillSendForm(page: Page, form: { target: 'group' | 'user'; pick: string; amount: string; count?: string; greeting: string }): Promise<void> {
  await page.getByTestId('rp-send').click();
  await page.getByTestId(`rp-to-${form.target}`).click();
  const select = page.locator(form.target === 'group' ? 'select[name=rpGroup]' : 'select[name=rpFriend]');
  await select.locator('option', { hasText: form.pick }).waitFor({ state: 'attached' });
  await select.selectOption({ label: form.pick });
  if (form.target === 'group') {
    await page.getByTestId('rp-mode-lucky').click();
    await page.locator('input[name=rpCount]').fill(form.count ?? '1');
  }
  await page.locator('input[name=rpAmount]').fill(form.amount);
  await page.locator('input[name=rpGreeting]').fill(form.greeting);
  await page.getByTestId('rp-send-total').filter({ hasText: `¥${form.amount}` }).waitFor();
  await page.getByTestId('rp-send-next').click();
}

/** From the home page: opens the inbox packet with this greeting; answers the amount won (fen). */
async function openFromInbox(user: BrowserUser, greeting: string, stepName: string): Promise<number> {
  let won = 0;
  await step(user.page, `${user.name}-opens-${stepName}`, async () => {
    const page = user.page;
    await page.getByTestId('tile-redPackets').click();
    const item = page.getByTestId('rp-item').filter({ hasText: greeting });
    await item.getByTestId('rp-item-open').click();
    await page.getByTestId('envelope').getByText(greeting).waitFor();
    await page.getByTestId('envelope-open').click();
    const amount = await page.getByTestId('envelope-amount').innerText();
    assert.match(amount, /^¥[0-9]+\.[0-9]{2}$/);
    won = fenOf(amount);
    // The share reaches the wallet within moments; the page looks again until it has.
    await page.getByTestId('envelope-settled').filter({ hasText: '已存入余额' }).waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId('packet-mine').innerText(), new RegExp(amount.replace('.', '\\.')));
    // Back in the inbox the packet shows my share instead of 开.
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByTestId('rp-item').filter({ hasText: greeting }).getByTestId('rp-item-mine').filter({ hasText: amount }).waitFor();
    await page.getByRole('button', { name: '返回' }).click();
  });
  return won;
}

test('send a lucky group packet and a 1:1 packet with the PIN pad; open them; read the details and bills', { skip }, async () => {
  const { baseUrl } = harness();
  const alice = await signUpInBrowser(harness(), 'Alice', alicePin);
  const bob = await signUpInBrowser(harness(), 'Bob', '530861');
  const carol = await signUpInBrowser(harness(), 'Carol', '713302');
  await befriendInBrowser(alice, bob);
  await befriendInBrowser(alice, carol);
  await topUpInBrowser(alice.page, '500', alicePin);
  await createGroupInBrowser(alice, '春节群', [bob, carol]);

  let groupPacketUrl = '';
  await step(alice.page, 'send-group-packet', async () => {
    await alice.page.getByTestId('tile-redPackets').click();
    await fillSendForm(alice.page, { target: 'group', pick: '春节群 (3)', amount: '3.00', count: '2', greeting: '新年快乐' });
    await typePin(alice.page, alicePin);
    // Sent: the packet's page, nobody has opened it yet.
    await alice.page.getByTestId('packet-grabbed').filter({ hasText: '已领取 0/2 个' }).waitFor();
    assert.equal(await alice.page.getByTestId('packet-greeting').innerText(), '新年快乐');
    assert.match(await alice.page.getByTestId('packet-total').innerText(), /¥3\.00/);
    groupPacketUrl = alice.page.url();
    assert.match(groupPacketUrl, /#\/redpacket\?id=rpk_/);
  });

  const bobWon = await openFromInbox(bob, '新年快乐', 'group-packet');
  const carolWon = await openFromInbox(carol, '新年快乐', 'group-packet');
  assert.equal(bobWon + carolWon, 300, 'the two shares make the whole packet');

  await step(alice.page, 'group-packet-details', async () => {
    const page = alice.page;
    await page.reload();
    await page.getByTestId('packet-grabbed').filter({ hasText: '已领取 2/2 个，共 ¥3.00/¥3.00' }).waitFor();
    assert.equal(await page.getByTestId('packet-grab').count(), 2);
    assert.equal(await page.getByTestId('best-luck').count(), 1);
    // 手气最佳 sits on the larger share (the earlier grab, Bob's, when they are equal).
    const best = bobWon >= carolWon ? 'Bob' : 'Carol';
    await page.getByTestId('packet-grab').filter({ hasText: best }).getByTestId('best-luck').filter({ hasText: '手气最佳' }).waitFor();
    assert.match(await page.getByTestId('packet-state').innerText(), /已领完/);
    assert.match(await page.getByTestId('packet-sha256').innerText(), /[0-9a-f]{64}/);
    // No envelope to open: every share is taken.
    assert.equal(await page.getByTestId('envelope').count(), 0);
    await page.getByTestId('rules-toggle').click();
    assert.match(await page.getByTestId('rules').innerText(), /两倍[\s\S]*24 小时/);
  });

  await step(bob.page, 'bob-bills', async () => {
    const page = bob.page;
    await page.getByTestId('action-bills').click();
    const bill = page.getByTestId('bill').filter({ hasText: '领红包' });
    await waitWithReloads(page, bill);
    assert.match(await bill.innerText(), new RegExp(`\\+${(bobWon / 100).toFixed(2).replace('.', '\\.')}`));
    await bill.click();
    await page.getByTestId('bill-redpacket').click();
    await page.getByTestId('packet-mine').waitFor();
    assert.match(await page.getByTestId('packet-greeting').innerText(), /新年快乐/);
    await page.goto(baseUrl);
  });

  await step(alice.page, 'send-friend-packet', async () => {
    const page = alice.page;
    await page.goto(`${baseUrl}/#/redpackets`);
    await fillSendForm(page, { target: 'user', pick: `Bob ${bob.mobile.slice(0, 3)}****${bob.mobile.slice(-4)}`, amount: '5.20', greeting: '给Bob的' });
    await typePin(page, '111112');
    await page.getByRole('alert').filter({ hasText: '支付密码错误' }).waitFor();
    await page.getByTestId('rp-send-next').click();
    await typePin(page, alicePin);
    await page.getByTestId('packet-grabbed').filter({ hasText: '已领取 0/1 个' }).waitFor();
    // The sender of a 1:1 packet has no envelope to open: it is the friend's.
    await page.getByText('红包已发出，等待好友领取').waitFor();
    assert.equal(await page.getByTestId('envelope').count(), 0);
  });

  assert.equal(await openFromInbox(bob, '给Bob的', 'friend-packet'), 520);

  await step(alice.page, 'alice-balance', async () => {
    await alice.page.goto(baseUrl);
    // 500 − 3.00 − 5.20.
    await alice.page.getByTestId('balance').filter({ hasText: '¥491.80' }).waitFor();
  });
  await step(bob.page, 'bob-balance', async () => {
    await bob.page.reload();
    await bob.page.getByTestId('balance').filter({ hasText: `¥${((bobWon + 520) / 100).toFixed(2)}` }).waitFor();
  });
  await step(alice.page, 'english', async () => {
    // In English the rule is the server's own text; the badge and state are translated too.
    await alice.page.getByTestId('lang').click();
    await alice.page.goto(groupPacketUrl);
    await alice.page.getByTestId('best-luck').filter({ hasText: 'Best luck' }).waitFor();
    await alice.page.getByTestId('rules-toggle').click();
    assert.match(await alice.page.getByTestId('rules').innerText(), /twice the average still to hand out/);
  });
  assert.equal((await reconcile(harness().t.db.sql)).ok, true);
  await alice.context.close();
  await bob.context.close();
  await carol.context.close();
});
