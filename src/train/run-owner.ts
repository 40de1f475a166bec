// Which process trains a live run. A run row names its owner (PID and host); any reader can then tell
// at once that the owner is gone and the run is only "running" on paper: on the same host the PID is
// dead, elsewhere (a library on a shared disk) its heartbeat has gone stale.
import os from 'node:os';
import type { Database } from 'better-sqlite3';
import { ApiError } from '../api/errors.js';

/** How long a worker may go silent before a run owned by another host counts as interrupted. */
export const HEARTBEAT_STALE_MS = 60_000;

/** How often a training process stamps its runs' heartbeat. */
export const HEARTBEAT_EVERY_MS = 5000;

/** The statuses of a run that some process is (or claims to be) training. */
export const LIVE_STATUSES = ['queued', 'running', 'paused'] as const;

const LIVE_SQL = `status IN ('queued', 'running', 'paused')`;

/** A run row's owner columns. */
export interface OwnerColumns {
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: number | null;
}

/** Whether a process with this PID exists on this machine (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a live run's owner is gone: its PID is dead on this host, or (another or unknown host) its heartbeat is stale. */
export function ownerGone(row: OwnerColumns, now = Date.now()): boolean {
  if (row.owner_pid !== null && row.owner_host === os.hostname()) {
    return !pidAlive(row.owner_pid);
  }
  return row.heartbeat_at === null || row.heartbeat_at < now - HEARTBEAT_STALE_MS;
}

/** "process 1234 on host-a", or "another process" for rows from before owners were recorded. */
export function describeOwner(row: Pick<OwnerColumns, 'owner_pid' | 'owner_host'>): string {
  return row.owner_pid === null ? 'another process' : `process ${row.owner_pid} on ${row.owner_host ?? 'an unknown host'}`;
}

/** Marks live runs (all, or just `id`) whose owner is gone as interrupted, so they can be resumed or deleted; returns how many. */
export function settleOrphanedRuns(db: Database, id?: number, now = Date.now()): number {
  if (db.readonly) {
    return 0;
  }
  const rows = (
    id === undefined
      ? db.prepare(`SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE ${LIVE_SQL}`).all()
      : db.prepare(`SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE ${LIVE_SQL} AND id = ?`).all(id)
  ) as Array<OwnerColumns & { id: number }>;
  let settled = 0;
  for (const row of rows.filter((r) => ownerGone(r, now))) {
    const why = row.owner_pid === null ? 'The process training this run' : `The process training this run (${describeOwner(row)})`;
    // Only if nobody claimed the run in between (same owner, still live).
    settled += db
      .prepare(`UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND ${LIVE_SQL} AND owner_pid IS ? AND owner_host IS ?`)
      .run(`${why} ended unexpectedly; resume continues from its last checkpoint.`, now, row.id, row.owner_pid, row.owner_host).changes;
  }
  return settled;
}

/** Makes this process the owner of a run that no process trains (status → queued), atomically; throws `conflict` if one does. */
export function claimRun(db: Database, id: number, now = Date.now()): void {
  settleOrphanedRuns(db, id, now);
  const claimed = db
    .prepare(`UPDATE runs SET status = 'queued', owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ? AND NOT ${LIVE_SQL}`)
    .run(process.pid, os.hostname(), now, id).changes;
  if (claimed === 0) {
    const row = db.prepare('SELECT status, owner_pid, owner_host FROM runs WHERE id = ?').get(id) as (Pick<OwnerColumns, 'owner_pid' | 'owner_host'> & { status: string }) | undefined;
    throw new ApiError(row ? 'conflict' : 'not_found', row ? `Run ${id} is ${row.status} in ${describeOwner(row)}; stop it there first.` : `Run ${id} does not exist.`);
  }
}

/** The owner columns for a run this process starts. */
export function ownerOfThisProcess(): { pid: number; host: string } {
  return { pid: process.pid, host: os.hostname() };
}

/** Stamps the run's heartbeat now and every few seconds (with this process as its owner); returns the stop function. */
export function startHeartbeat(db: Database, runId: number): () => void {
  const { pid, host } = ownerOfThisProcess();
  const beat = (): void => void db.prepare('UPDATE runs SET heartbeat_at = ?, owner_pid = ?, owner_host = ? WHERE id = ?').run(Date.now(), pid, host, runId);
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  return () => clearInterval(timer);
}
