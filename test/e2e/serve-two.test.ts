// Two `convnet serve` on one machine, open in one browser: cookies ignore the port, so each server must name
// its own token cookie, or the second page's visit locks the first page out of its thumbnails.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { makePicturesFolder } from '../helpers/library-folder.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

const PER_CLASS = 3;
const servers: ServeProcess[] = [];
let browser: Browser;
let context: BrowserContext;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  for (const [name, classes] of [
    ['fruit', { apple: '#ef4444', pear: '#84cc16' }],
    ['sky', { sun: '#f59e0b', moon: '#64748b' }],
  ] as const) {
    const images = path.join(t.dir, name);
    await makePicturesFolder(images, classes, PER_CLASS, false);
    const library = path.join(t.dir, `${name}-library`);
    execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', images, '--library', library, '--name', name, '--json'], { cwd: repoRoot, stdio: 'pipe' });
    servers.push(await startServe(library));
  }
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
  cleanup?.();
});

/** Opens a server's gallery and resolves whether every thumbnail loaded. */
async function galleryLoads(page: Page): Promise<void> {
  await page.getByTestId('dataset-card').getByRole('button', { name: 'Open gallery' }).click();
  await page.getByTestId('gallery').waitFor();
  const thumbs = page.getByTestId('thumb');
  await expect.poll(() => thumbs.count()).toBe(PER_CLASS * 2);
  await expect
    .poll(() => thumbs.locator('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)), { timeout: 20_000 })
    .toBe(true);
}

describe('two convnet serve in one browser', () => {
  it('shows both galleries with their thumbnails', async () => {
    // Both pages first, as a user with two tabs: the second visit sets the second server's cookie.
    const pages: Page[] = [];
    for (const serve of servers) {
      const page = await context.newPage();
      await page.goto(serve.url);
      await page.getByTestId('dataset-card').waitFor();
      pages.push(page);
    }
    for (const [i, page] of pages.entries()) {
      await galleryLoads(page);
      await page.screenshot({ path: artifactPath('e2e', `serve-two-${i + 1}.png`) });
    }
  });
});
