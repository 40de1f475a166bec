// Drives the built compute page (build/renderer/compute/compute.html) in headless Chromium, where
// SwiftShader provides a software WebGPU adapter and WebGL: a loopback static server, and a bridge
// that speaks the compute protocol from Node (buffers base64-encoded across playwright, test-only).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { contentType, resolveInside } from '../../src/server/static.js';
import { lossSignal, type ComputeChannel, type ComputeHost } from '../../src/train/compute/host/host.js';
import type { FromCompute, ToCompute } from '../../src/train/compute/protocol.js';
import { transferablesOf } from '../../src/train/compute/protocol.js';
import { launchChromium } from './browser.js';
import { repoRoot } from './temp.js';

/** Flags that give headless Chromium a (software) WebGPU adapter and WebGL on a machine without a GPU. */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

/** Launches Chromium with the WebGPU flags. */
export function launchWebgpuChromium(): Promise<Browser> {
  return launchChromium(WEBGPU_ARGS);
}

/** The built renderer folder; the compute page must have been built (`npm run build:renderer`). */
export const builtRenderer = path.join(repoRoot, 'build', 'renderer');

/** Serves a folder on 127.0.0.1 (a secure context, as WebGPU requires). */
export async function serveStatic(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = resolveInside(dir, new URL(req.url ?? '/', 'http://x').pathname);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': contentType(file) }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A compute page and the Node end of its port. */
export interface ComputePage {
  page: Page;
  post(m: ToCompute): Promise<void>;
  onMessage(listener: (m: FromCompute) => void): void;
  /** Resolves with the next message of a type (rejects on an `error` message or after `timeoutMs`). */
  next<T extends FromCompute['type']>(type: T, timeoutMs?: number): Promise<Extract<FromCompute, { type: T }>>;
  errors: string[];
}

/** Opens the compute page at `origin` and connects a MessageChannel to it, bridged to Node. */
export async function openComputePage(browser: Browser, origin: string): Promise<ComputePage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const listeners: Array<(m: FromCompute) => void> = [];
  await page.exposeFunction('__computeToHost', (encoded: string) => {
    const m = decode(JSON.parse(encoded)) as FromCompute;
    listeners.forEach((l) => l(m));
  });
  await page.goto(`${origin}/compute/compute.html`);
  await page.waitForFunction(() => document.title.includes('waiting'));
  await page.evaluate(`(${browserBridge.toString()})()`);
  return {
    page,
    errors,
    post: async (m) => {
      // Sizes are bounded by the tests; transferables are re-created page-side and transferred there.
      await page.evaluate(`window.__hostSend(${JSON.stringify(JSON.stringify(encode(m)))}, ${transferablesOf(m).length})`);
    },
    onMessage: (l) => listeners.push(l),
    next: (type, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no '${type}' from the compute page within ${timeoutMs} ms; page errors: ${errors.join(' | ')}`)), timeoutMs);
        listeners.push(function once(m) {
          if (m.type === type || m.type === 'error') {
            clearTimeout(timer);
            listeners.splice(listeners.indexOf(once), 1);
            if (m.type === 'error' && type !== 'error') {
              reject(new Error(`compute page error: ${m.message}`));
            } else {
              resolve(m as never);
            }
          }
        });
      }),
  };
}

/** Runs in the page: a MessageChannel whose far end goes to the compute entry, near end bridged to Node. */
function browserBridge(): void {
  const w = window as unknown as Record<string, unknown>;
  const toB64 = (b: ArrayBuffer): string => {
    const u = new Uint8Array(b);
    let s = '';
    for (let i = 0; i < u.length; i += 0x8000) {
      s += String.fromCharCode(...u.subarray(i, i + 0x8000));
    }
    return btoa(s);
  };
  const enc = (v: unknown): unknown =>
    v instanceof ArrayBuffer ? { __b64: toB64(v) } : Array.isArray(v) ? v.map(enc) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)])) : v;
  const buffers: ArrayBuffer[] = [];
  const dec = (v: unknown): unknown => {
    if (v && typeof v === 'object' && '__b64' in (v as object)) {
      const bin = atob((v as { __b64: string }).__b64);
      const u = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) {
        u[i] = bin.charCodeAt(i);
      }
      buffers.push(u.buffer);
      return u.buffer;
    }
    return Array.isArray(v) ? v.map(dec) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dec(x)])) : v;
  };
  const channel = new MessageChannel();
  channel.port1.onmessage = (e) => void (w.__computeToHost as (s: string) => Promise<void>)(JSON.stringify(enc(e.data)));
  w.__hostSend = (json: string) => {
    buffers.length = 0;
    const m = dec(JSON.parse(json));
    channel.port1.postMessage(m, buffers.slice());
  };
  window.postMessage('convnet-compute-port', '*', [channel.port2]);
}

function encode(v: unknown): unknown {
  if (v instanceof ArrayBuffer) {
    return { __b64: Buffer.from(v).toString('base64') };
  }
  if (Array.isArray(v)) {
    return v.map(encode);
  }
  return v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)])) : v;
}

function decode(v: unknown): unknown {
  if (v && typeof v === 'object' && '__b64' in (v as object)) {
    const b = Buffer.from((v as { __b64: string }).__b64, 'base64');
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }
  if (Array.isArray(v)) {
    return v.map(decode);
  }
  return v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)])) : v;
}

/**
 * A ComputeHost whose windows are compute pages in this Chromium: the engine's RunManager drives them
 * exactly as it drives Electron's hidden compute windows (main/compute-window.ts), over the same
 * protocol. `fakeProbe` replaces the seconds a page measured for auto's probe (to make auto pick webgpu
 * on a software adapter). `pages` lists what was opened, so a test can close one mid-run.
 */
export function chromiumComputeHost(browser: Browser, origin: string, options: { fakeProbe?: number } = {}): ComputeHost & { pages: ComputePage[] } {
  const pages: ComputePage[] = [];
  return {
    pages,
    open: async (): Promise<ComputeChannel> => {
      const cp = await openComputePage(browser, origin);
      pages.push(cp);
      const { lose, onLost } = lossSignal();
      cp.page.on('close', () => lose('The compute window was closed.'));
      cp.page.on('crash', () => lose("The compute window's renderer stopped (crashed)."));
      return {
        post: (m) => {
          if (!cp.page.isClosed()) {
            cp.post(m).catch(() => undefined); // a page closing mid-post is reported through onLost
          }
        },
        onMessage: (l) =>
          cp.onMessage((m) => {
            if (m.type === 'error' && m.deviceLost) {
              lose(m.message);
            }
            l(m.type === 'probe' && options.fakeProbe !== undefined ? { ...m, secondsPerStep: options.fakeProbe } : m);
          }),
        onLost,
        close: () => void cp.page.close().catch(() => undefined),
      };
    },
  };
}
