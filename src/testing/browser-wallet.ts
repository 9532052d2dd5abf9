import type { BrowserContext, Page } from 'playwright-core';
import { nextMobile, testPassword } from './app.ts';
import { step, type BrowserHarness } from './browser.ts';

/** The wallet steps browser tests share: a signed-up user with a PIN, the PIN pad, a top-up. */
export interface BrowserUser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly mobile: string;
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
  return { context, page, mobile };
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
