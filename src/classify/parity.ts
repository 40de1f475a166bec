import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ExportParity } from '../api/classify.js';
import { appRoot } from '../version.js';
import { PREDICT_FILE } from './predict-script.js';
import type { ExportReply } from './worker-messages.js';

/** Most held-out images a parity check compares. */
export const PARITY_SAMPLE = 200;

/** Up to `limit` images of a run's snapshot, from its test split (else val, else train), in image-id order. */
export function paritySample(db: Database, runId: number, limit = PARITY_SAMPLE): { split: ExportParity['split']; paths: string[] } {
  for (const split of ['test', 'val', 'train'] as const) {
    const rows = db
      .prepare(
        `SELECT i.path FROM run_images r JOIN images i ON i.id = r.image_id
          WHERE r.run_id = ? AND r.split = ? AND i.status = 'ok' ORDER BY r.image_id LIMIT ?`,
      )
      .all(runId, split, limit) as Array<{ path: string }>;
    if (rows.length > 0) {
      return { split, paths: rows.map((r) => r.path) };
    }
  }
  return { split: null, paths: [] };
}

/** One line of `predict.mjs --json --probs`. */
type ChildLine = { path: string; probabilities: number[] } | { path: string; error: string };

/**
 * Runs the export's own predict.mjs in a fresh Node process (only tfjs, sharp and the folder's files) on `paths`
 * and returns its lines. The process resolves packages from the app's folder, as a user's project would.
 */
export function runExportedPredict(dir: string, paths: string[], backend: string): Promise<ChildLine[]> {
  const args = [path.join(dir, PREDICT_FILE), '--json', '--probs', '--backend', backend === 'tensorflow' || backend === 'wasm' ? backend : 'cpu', ...paths];
  return new Promise((resolve, reject) => {
    // Under Electron, execPath is the app binary: ELECTRON_RUN_AS_NODE makes it a plain Node.
    const child = spawn(process.execPath, args, { cwd: appRoot, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        const last = err.trim().split('\n').filter((l) => !/^(Hi there|=+|Platform node has)/.test(l)).slice(-3).join(' ');
        reject(new Error(`the exported model failed to run in a fresh process (exit ${code}): ${last}`));
        return;
      }
      resolve(out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ChildLine));
    });
  });
}

/** Compares the app's probabilities with the fresh process's: top-1 agreement and the largest probability difference. */
export function compareParity(app: ExportReply['sample'], exported: ChildLine[], split: ExportParity['split'], backend: string | null): ExportParity {
  const other = new Map(exported.map((l) => [l.path, l]));
  let images = 0;
  let agree = 0;
  let maxDiff = 0;
  const disagreements: string[] = [];
  for (const a of app) {
    const b = other.get(a.path);
    if (!('probabilities' in a) || !b || !('probabilities' in b)) {
      if (('probabilities' in a) !== (b !== undefined && 'probabilities' in b)) {
        disagreements.push(`${path.basename(a.path)} classified by only one side`);
      }
      continue;
    }
    images++;
    const argmax = (p: number[]): number => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);
    if (argmax(a.probabilities) === argmax(b.probabilities)) {
      agree++;
    }
    a.probabilities.forEach((p, i) => (maxDiff = Math.max(maxDiff, Math.abs(p - (b.probabilities[i] ?? 1)))));
  }
  const skipped = app.length - images;
  const note = [
    images === 0 ? 'No held-out image of the run could be read, so nothing was compared.' : null,
    skipped > 0 ? `${skipped} image(s) left out: ${disagreements.length ? disagreements.slice(0, 3).join('; ') : 'unreadable on both sides'}.` : null,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    images,
    split: images ? split : null,
    top1Agreement: images ? agree / images : null,
    maxProbDiff: images ? maxDiff : null,
    backend,
    note: note || null,
  };
}
