import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { FakeClock } from '../kernel/clock.ts';
import { nextMobile, testPassword } from './app.ts';
import { step, type BrowserHarness } from './browser.ts';

/** The wallet steps browser tests share: a signed-up user with a PIN, the PIN pad, a top-up. */
export interface BrowserUser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly mobile: string;
  /** The display name signed up with. */
  readonly name: string;
}

export async function typePin(page: Page, pin: string): Promise<void> {
  for (const digit of pin) await page.getByTestId(`pin-${digit}`).click();
}

/** Signs up in a phone-sized window (zh-CN) and sets the payment PIN, ending on the home page. */
export async function signUpInBrowser(harness: BrowserHarness, name: string, pin: string): Promise<BrowserUser> {
  const context = await harness.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const mobile = nextMobile();
  await step(page, `${name}-sign-up`, async () => {
    await page.goto(harness.baseUrl);
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
  return { context, page, mobile, name };
}

/** Binds a card and tops up `yuan` with the PIN pad, from the home page back to it. */
export async function topUpInBrowser(page: Page, yuan: string, pin: string): Promise<void> {
  await step(page, 'top-up', async () => {
    await page.getByTestId('action-topup').click();
    await page.locator('input[name=last4]').fill('6222');
    await page.getByTestId('bind-card').click();
    await page.locator('select[name=card] option').first().waitFor({ state: 'attached' });
    await page.locator('input[name=amount]').fill(yuan);
    await page.getByTestId('topup-next').click();
    await typePin(page, pin);
    await page.getByTestId('topup-done').waitFor();
    await page.getByRole('button', { name: '返回' }).click();
  });
}

/** `from` asks `to` to be friends by mobile number and `to` accepts; both start and end on the home page. */
export async function befriendInBrowser(from: BrowserUser, to: BrowserUser): Promise<void> {
  await step(from.page, `befriend-${from.name}-${to.name}`, async () => {
    await from.page.getByTestId('tile-friends').click();
    await from.page.locator('input[name=friendMobile]').fill(to.mobile);
    await from.page.getByTestId('add-friend').click();
    await from.page.getByRole('status').waitFor();
    await to.page.getByTestId('tile-friends').click();
    await to.page.getByTestId('incoming').locator('li', { hasText: from.name }).getByTestId('accept-friend').click();
    await to.page.getByTestId('friend-list').getByText(from.name).waitFor();
    await from.page.reload();
    await from.page.getByTestId('friend-list').getByText(to.name).waitFor();
    await from.page.getByRole('button', { name: '返回' }).click();
    await to.page.getByRole('button', { name: '返回' }).click();
  });
}

/** `owner` forms a group with `members` (already friends), from the home page back to it. */
export async function createGroupInBrowser(owner: BrowserUser, groupName: string, members: readonly BrowserUser[]): Promise<void> {
  await step(owner.page, `${owner.name}-creates-group`, async () => {
    await owner.page.getByTestId('tile-groups').click();
    await owner.page.locator('input[name=groupName]').fill(groupName);
    for (const member of members) await owner.page.getByLabel(member.name, { exact: true }).check();
    await owner.page.getByTestId('create-group').click();
    await owner.page.getByTestId('group').filter({ hasText: `${groupName} (${String(members.length + 1)})` }).waitFor();
    await owner.page.getByRole('button', { name: '返回' }).click();
  });
}

/**
 * Waits for what the server writes a little later (a red packet's share settling into a bill):
 * looks for `locator` a moment, reloads the page and looks again, at most `reloadsMax` times.
 */
export async function waitWithReloads(page: Page, locator: Locator, reloadsMax = 20): Promise<void> {
  for (let reloads = 0; reloads < reloadsMax; reloads++) {
    try {
      await locator.first().waitFor({ timeout: 1000 });
      return;
    } catch {
      await page.reload();
    }
  }
  await locator.first().waitFor({ timeout: 1000 });
}

/**
 * Keeps the app's fake clock on real time while a test runs, for what is scheduled by the wall
 * clock a browser reads (a rain's window): browser tests start the clock at "now", but it moves
 * only when told. Answers the function that stops it.
 */
export function followRealTime(clock: FakeClock, tickMs = 20): () => void {
  const timer = setInterval(() => {
    clock.set(Math.max(clock.nowMs(), Date.now()));
  }, tickMs);
  clock.set(Math.max(clock.nowMs(), Date.now()));
  return () => {
    clearInterval(timer);
  };
}

/** An operator logged into the console at /admin in a desktop-sized window. */
export interface BrowserOperator {
  readonly context: BrowserContext;
  readonly page: Page;
}

export async function operatorInBrowser(harness: BrowserHarness, username: string, password: string): Promise<BrowserOperator> {
  const context = await harness.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await step(page, `${username}-admin-login`, async () => {
    await page.goto(`${harness.baseUrl}/admin`);
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    await page.getByTestId('admin-login').click();
    await page.getByText('OK —').waitFor();
  });
  return { context, page };
}

/** "¥1,234.56" (the first amount in a text) → 123456 fen, for sums in tests. */
export function fenOf(text: string): number {
  const match = /¥([0-9,]+)\.([0-9]{2})/.exec(text);
  if (match === null) throw new Error(`no amount in ${text}`);
  return Number(`${(match[1] ?? '').replace(/,/g, '')}${match[2] ?? ''}`);
}

/** 123456 fen → "1,234.56", as the web app shows money. */
export function yuanOf(fen: number): string {
  return (fen / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
