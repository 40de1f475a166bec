// Figure 6: UI responsiveness while training. Starts the real `convnet serve` on a temporary library,
// imports a real image folder and starts a real run (runs.start, training in the run worker thread) over
// the WebSocket, and times app.ping round trips while it trains, against the same pings when idle.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { makeRow, percentile, skippedRow, type Row } from './results.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONVNET_BIN = path.resolve(here, here.includes(`${path.sep}build${path.sep}`) ? '../..' : '..', 'bin', 'convnet.js');

/** A WebSocket client of the contract: requests by id, events to listeners. */
class Client {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: { message: string } }) => void>();
  private readonly listeners = new Set<(event: string, payload: Record<string, unknown>) => void>();

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; id?: number; reply?: never; event?: string; payload?: Record<string, unknown> };
      if (m.type === 'reply' && typeof m.id === 'number') {
        this.waiting.get(m.id)?.(m.reply!);
        this.waiting.delete(m.id);
      } else if (m.type === 'event') {
        this.listeners.forEach((l) => l(m.event!, m.payload!));
      }
    });
  }

  async call<T = Record<string, unknown>>(method: string, input: unknown = {}): Promise<T> {
    const id = this.nextId++;
    const reply = await new Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, input }));
    });
    if (!reply.ok) {throw new Error(`${method}: ${reply.error?.message ?? 'failed'}`);}
    return reply.result as T;
  }

  /** Resolves with the first event `name` whose payload passes `match`; rejects after `timeoutMs`. */
  event(name: string, match: (p: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.listeners.delete(l), reject(new Error(`no ${name} event within ${timeoutMs / 1000} s`))), timeoutMs);
      const l = (event: string, payload: Record<string, unknown>): void => {
        if (event === name && match(payload)) {
          clearTimeout(timer);
          this.listeners.delete(l);
          resolve(payload);
        }
      };
      this.listeners.add(l);
    });
  }
}

/** Round-trip times of `app.ping`, one at a time every `everyMs`, for `seconds`. */
async function pings(client: Client, seconds: number, everyMs: number): Promise<number[]> {
  const rtts: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await client.call('app.ping');
    const rtt = performance.now() - t;
    rtts.push(rtt);
    await new Promise((r) => setTimeout(r, Math.max(0, everyMs - rtt)));
  }
  return rtts;
}

/** Starts `convnet serve --json` on a library; resolves with its port and token, and a stop function. */
async function serve(libraryDir: string): Promise<{ port: number; token: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CONVNET_BIN, 'serve', '--library', libraryDir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVNET_LIBRARY: '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const first = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`convnet serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(first) as { url: string; port: number };
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) {return resolve();}
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => (clearTimeout(timer), resolve()));
      child.kill('SIGTERM');
    });
  return { port: info.port, token: new URL(info.url).searchParams.get('token')!, stop };
}

/** Figure 6: p99 of app.ping over the real server's WebSocket while a real run trains, against the idle p99. */
export async function uiFigure(o: { libraryDir: string; imageDir: string; pingSeconds: number; idleSeconds: number; everyMs: number; log: (s: string) => void }): Promise<Row[]> {
  const base = { figure: 6, unit: 'ms', better: 'lower', peerName: 'same pings, server idle' } as const;
  const p99Row = { ...base, id: 'ui.ping.p99', what: 'UI ping p99 while training (target < 50 ms)' };
  const p50Row = { ...base, id: 'ui.ping.p50', what: 'UI ping median while training' };
  let server: Awaited<ReturnType<typeof serve>> | null = null;
  let ws: WebSocket | null = null;
  try {
    server = await serve(o.libraryDir);
    ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((resolve, reject) => (ws!.once('open', resolve), ws!.once('error', reject)));
    const client = new Client(ws);
    const idle = await pings(client, o.idleSeconds, o.everyMs);

    const { jobId } = await client.call<{ jobId: string }>('datasets.import', { paths: [o.imageDir], name: 'bench' });
    const finished = await client.event('import.finished', (p) => p.jobId === jobId, 300_000);
    const datasetId = finished.datasetId as number | null;
    if (!datasetId) {throw new Error(`import failed: ${JSON.stringify(finished.error)}`);}
    const run = await client.call<{ id: number }>('runs.start', { datasetId, arch: 'alexnet-small', backend: 'wasm', batchSize: 64, epochs: 1000, timeLimitMinutes: 10 });
    await client.event('train.progress', (p) => p.runId === run.id && p.phase === 'training', 300_000);
    o.log(`    run ${run.id} is training; pinging for ${o.pingSeconds} s`);
    const busy = await pings(client, o.pingSeconds, o.everyMs);
    const done = client.event('run.finished', (p) => p.runId === run.id, 120_000);
    await client.call('runs.stop', { id: run.id });
    await done;

    const note = `real import of ${o.imageDir} + runs.start (alexnet-small, wasm, batch 64) via convnet serve; ${busy.length} pings while training, ${idle.length} idle, one every ${o.everyMs} ms`;
    return [
      makeRow({ ...p99Row, ours: percentile(busy, 99), peer: percentile(idle, 99), samples: { ours: busy, peer: idle }, note: `${note}; ${percentile(busy, 99) < 50 ? 'meets' : 'MISSES'} the 50 ms target` }),
      makeRow({ ...p50Row, ours: percentile(busy, 50), peer: percentile(idle, 50) }),
    ];
  } catch (err) {
    const reason = `could not measure: ${(err as Error).message}`;
    return [skippedRow(p99Row, reason), skippedRow(p50Row, reason)];
  } finally {
    ws?.close();
    await server?.stop();
  }
}
