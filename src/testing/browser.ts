import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWebIfMissing } from '../http/web.ts';
import { createTestApp, type TestApp } from './app.ts';

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). A fresh machine may
 * lack it: `chromiumPath()` answers undefined and browser tests skip with that reason printed;
 * `.ci/run` installs it, so in CI they run.
 */
export const chromiumExecutable = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function chromiumPath(): Promise<string | undefined> {
  return access(chromiumExecutable).then(
    () => chromiumExecutable,
    () => undefined,
  );
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a screenshot under .qianbao/screenshots (for a failed browser test) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const dir = path.resolve('.qianbao', 'screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The shared set-up of a browser test file: the built web app, the whole server on a test schema
 * listening on a free loopback port, and Chromium — or, where Chromium is missing, a skip reason
 * printed loudly. Call at the top level of the test file; read `harness()` inside tests.
 */
export interface BrowserHarness {
  readonly t: TestApp;
  readonly browser: Browser;
  readonly baseUrl: string;
}

export async function useBrowserApp(setup?: (t: TestApp) => Promise<void>): Promise<{ skip: string | false; harness: () => BrowserHarness }> {
  const executable = await chromiumPath();
  const skip = executable === undefined ? `Chromium not found at ${chromiumExecutable} (apt-get install -y chromium); browser tests did not run` : false;
  if (skip !== false) process.stderr.write(`\n*** ${skip} ***\n\n`);
  let state: BrowserHarness | undefined;
  before(async () => {
    if (executable === undefined) return;
    assert.ok(await buildWebIfMissing((line) => process.stderr.write(`${line}\n`)), 'the web app builds');
    // A browser keeps cookies by real time, so the app's clock starts at now.
    const t = await createTestApp({}, { clockStartMs: Date.now() });
    await setup?.(t);
    const baseUrl = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
    state = { t, baseUrl, browser: await launchChromium(executable) };
  });
  after(async () => {
    await state?.browser.close();
    await state?.t.close();
  });
  return {
    skip,
    harness: () => {
      assert.ok(state !== undefined, 'the browser harness is set up');
      return state;
    },
  };
}

/** Runs one step of a browser test; a failure saves a screenshot and names it. */
export async function step(page: Page, name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const file = await saveScreenshot(page, name);
    throw new Error(`${name} failed (screenshot: ${file}): ${error instanceof Error ? error.message : String(error)}`);
  }
}
