// vitest globalSetup of the e2e project: unpacks the test browser once, before any test file runs,
// and hands its path to every worker through CHROMIUM_PATH (test files then launch it without racing
// each other to unpack it).
import { resolveTestChromium } from './test-browser.js';

export default async function setup(): Promise<void> {
  process.env.CHROMIUM_PATH = await resolveTestChromium();
}
