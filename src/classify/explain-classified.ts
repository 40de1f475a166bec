import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ParsedInput } from '../api/contract.js';
import { ApiError } from '../api/errors.js';
import type { GradCamPicture } from '../api/results.js';
import type { ClassifyJobs } from './jobs.js';

/** Side of the square a Grad-CAM picture for the UI is shrunk to fit (as results.gradcam). */
const GRADCAM_SIDE = 480;

/** The URL of a Grad-CAM picture of a job's n-th result (`name`: 16 hex digits naming the layer and class asked for). */
export function classifiedGradcamUrl(jobId: string, index: number, name: string): string {
  return `/media/classified/${jobId}/${index}/gradcam/${name}.png`;
}

/** Where that picture is on disk: inside the jobs' temporary pictures folder, from validated parts only. */
export function classifiedGradcamFile(jobs: ClassifyJobs, jobId: string, index: number, name: string): string {
  return path.join(jobs.picturesDir(jobId), String(index), `${name}.png`);
}

/** What one file of a job is now: still a regular file, or an error the user can act on. */
function requireImageFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ApiError('not_found', `${file} is gone: it was moved or deleted after it was classified.`);
    }
    throw new ApiError('conflict', `${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  if (!st.isFile()) {
    throw new ApiError('conflict', `${file} is now ${st.isDirectory() ? 'a folder' : 'not a regular file'}, not the image that was classified.`);
  }
}

/**
 * `classify.gradcam`: the heat map of a job's n-th result, made by the classify worker with the classifier the
 * job used, over the file the job read. The client names a job and a position, never a path; the file is checked
 * again (it may have gone or changed since), and a class must be one of the job's classes.
 */
export async function explainClassified(jobs: ClassifyJobs, q: ParsedInput<'classify.gradcam'>): Promise<GradCamPicture> {
  const job = jobs.get(q.jobId);
  const item = job.results[q.index];
  if (!item) {
    throw new ApiError('not_found', `Job ${q.jobId} has no result ${q.index}: it has ${job.results.length} classified image${job.results.length === 1 ? '' : 's'} (counted from 0).`);
  }
  if (q.classLabel !== undefined && !job.classes.includes(q.classLabel)) {
    throw new ApiError('bad_request', `The model of job ${q.jobId} has no class "${q.classLabel}"; its classes are ${job.classes.join(', ')}.`);
  }
  requireImageFile(item.path);
  const name = createHash('sha256').update(JSON.stringify([q.layer ?? null, q.classLabel ?? null])).digest('hex').slice(0, 16);
  const out = classifiedGradcamFile(jobs, q.jobId, q.index, name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const reply = await jobs.request({
    type: 'explain',
    location: jobs.locationOf(q.jobId),
    file: item.path,
    out,
    layer: q.layer ?? null,
    classLabel: q.classLabel ?? null,
    maxSide: GRADCAM_SIDE,
  });
  const done = reply.item;
  if ('error' in done) {
    throw new ApiError('conflict', `${item.path} cannot be explained: ${done.error}.`);
  }
  return {
    url: `${classifiedGradcamUrl(q.jobId, q.index, name)}?v=${Math.round(fs.statSync(out).mtimeMs)}`,
    layer: done.layer,
    convLayers: reply.convLayers,
    label: done.label,
    probability: Math.min(1, done.probability),
    className: done.class,
    classProbability: Math.min(1, done.classProbability),
    width: done.width,
    height: done.height,
  };
}
