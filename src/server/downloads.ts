import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { ApiError } from '../api/errors.js';
import { classifyJobsOf, lastExportDir } from '../classify/handlers.js';
import { resultsCsv, resultsJson } from '../classify/results-format.js';
import { lastOnnxFile } from '../interchange/onnx-export-service.js';
import type { Studio } from '../studio.js';
import { SECURITY_HEADERS } from './csp.js';
import type { RouteHandler } from './index.js';
import { replyError } from './route-reply.js';

const EXPORT_ROUTE = /^\/download\/export\/([1-9]\d{0,9})\.zip$/;
const ONNX_ROUTE = /^\/download\/onnx\/([1-9]\d{0,9})\.onnx$/;
const RESULTS_ROUTE = /^\/download\/results\/([0-9a-f-]{36})\.(csv|json)$/;
/** Files worth deflating (text); weight shards are stored as they are (floats barely compress). */
const DEFLATE = /\.(json|js|md|txt|csv)$/i;

/**
 * Browser-mode downloads, addressed by id, never by a client-supplied path: `GET /download/export/<runId>.zip`
 * streams the folder this server last exported that run to as a zip (one top folder, the model folder);
 * `GET /download/results/<jobId>.csv|json` a classification job's results in the format `classify.exportResults` writes.
 */
export function downloadRoutes(studio: Pick<Studio, 'library'>): RouteHandler {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/download/')) {
      return false;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      replyError(res, 405, 'Use GET to download.');
      return true;
    }
    const exportMatch = EXPORT_ROUTE.exec(url.pathname);
    if (exportMatch) {
      const runId = Number(exportMatch[1]);
      const dir = lastExportDir(studio, runId);
      if (!dir) {
        replyError(res, 404, `Run ${runId} has not been exported since the server started; export it first.`);
        return true;
      }
      const files = await listFiles(dir).catch(() => null);
      if (!files || files.length === 0) {
        replyError(res, 404, `The exported folder ${dir} is gone or empty; export run ${runId} again.`);
        return true;
      }
      await sendZip(res, dir, files, req.method === 'HEAD');
      return true;
    }
    const onnxMatch = ONNX_ROUTE.exec(url.pathname);
    if (onnxMatch) {
      const runId = Number(onnxMatch[1]);
      const file = lastOnnxFile(studio.library, runId);
      const size = file ? await stat(file).then((s) => (s.isFile() ? s.size : null), () => null) : null;
      if (!file || size === null) {
        replyError(res, 404, file ? `The ONNX file ${file} is gone; export run ${runId} again.` : `Run ${runId} has not been exported as ONNX since the server started; export it first.`);
        return true;
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': `attachment; filename="${path.basename(file).replace(/[^\w.-]+/g, '_')}"`,
        'Content-Length': size,
        'Cache-Control': 'no-store',
      });
      if (req.method === 'HEAD') {
        res.end();
      } else {
        createReadStream(file).on('error', () => res.destroy()).pipe(res);
      }
      return true;
    }
    const resultsMatch = RESULTS_ROUTE.exec(url.pathname);
    if (resultsMatch) {
      const [, jobId, format] = resultsMatch as unknown as [string, string, 'csv' | 'json'];
      let text: string;
      try {
        const job = classifyJobsOf(studio).get(jobId);
        if (job.status === 'running') {
          replyError(res, 409, 'The job is still running; download its results once it has finished.', 'conflict');
          return true;
        }
        text = format === 'csv' ? resultsCsv(job) : resultsJson(job);
      } catch (err) {
        if (err instanceof ApiError) {
          replyError(res, 404, err.message);
          return true;
        }
        throw err;
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="classification.${format}"`,
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return true;
    }
    replyError(res, 404, 'Not found: downloads are /download/export/<run id>.zip, /download/onnx/<run id>.onnx and /download/results/<job id>.csv (or .json).');
    return true;
  };
}

/** Regular files under `dir`, relative with `/`, sorted; links and special files are left out. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      out.push(...(await listFiles(dir, relative)));
    } else if (entry.isFile()) {
      out.push(relative);
    }
  }
  return out;
}

/** Streams `files` of `dir` as a zip whose one top folder is `dir`'s name, waiting on the socket as it goes. */
async function sendZip(res: ServerResponse, dir: string, files: string[], headOnly: boolean): Promise<void> {
  const top = path.basename(dir);
  const fileName = top.replace(/[^\w.-]+/g, '_') || 'model';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/zip',
    'Content-Disposition': `attachment; filename="${fileName}.zip"`,
    'Cache-Control': 'no-store',
  });
  if (headOnly) {
    res.end();
    return;
  }
  let failed: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      failed = err;
      return;
    }
    res.write(chunk);
    if (final) {
      res.end();
    }
  });
  try {
    for (const relative of files) {
      const entry = DEFLATE.test(relative) ? new ZipDeflate(`${top}/${relative}`, { level: 6 }) : new ZipPassThrough(`${top}/${relative}`);
      zip.add(entry);
      for await (const chunk of createReadStream(path.join(dir, relative))) {
        entry.push(chunk as Buffer);
        if (failed || res.destroyed) {
          throw failed ?? new Error('The client went away.');
        }
        if (res.writableNeedDrain) {
          await new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
      }
      entry.push(new Uint8Array(0), true);
    }
    zip.end();
  } catch {
    // Headers are out: all that is left is to cut the download short, which the browser reports as failed.
    zip.terminate();
    res.destroy();
  }
}
