import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { artifactPath, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  serve = await startServe(t.dir);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

/** Opens the printed URL and collects console errors (CSP violations show up there). */
async function openApp(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  recordPageErrors(page, errors);
  await page.goto(serve.url);
  return { page, errors };
}

describe('convnet serve in Chromium', () => {
  it('shows the UI with the backend from a real round trip to the engine', async () => {
    const { page, errors } = await openApp();
    const info = await (await fetch(`${serve.origin}/api/app.info`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` } })).json();
    const backend = page.getByTestId('backend');
    await backend.waitFor();
    expect(await backend.textContent()).toContain(`Backend: ${info.result.backend.name}`);
    expect(await page.getByTestId('status-bar').textContent()).toContain('Browser mode');
    for (const label of ['Library', 'Train', 'Runs', 'Classify']) {
      await expect(page.getByRole('button', { name: label, exact: true }).isVisible()).resolves.toBe(true);
    }
    // The token leaves the address bar once the page has it.
    expect(page.url()).not.toContain('token=');
    await page.getByRole('button', { name: 'Runs', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Library', exact: true }).click();
    await page.screenshot({ path: artifactPath('e2e', 'serve-home.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses requests without the token', async () => {
    expect((await fetch(`${serve.origin}/`)).status).toBe(401);
    const page = await browser.newPage();
    const res = await page.goto(`${serve.origin}/`);
    expect(res?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/Unauthorized/);
    await page.close();
  });
});
