// Which process trains a live run. A run row names its owner (PID and host); any reader can then tell
// at once that the owner is gone and the run is only "running" on paper: on the same host the PID is
// dead, elsewhere (a library on a shared disk) its heartbeat has gone stale.
import os from 'node:os';

/** How long a worker may go silent before a run owned by another host counts as interrupted. */
export const HEARTBEAT_STALE_MS = 60_000;

/** How often a training process stamps its runs' heartbeat. */
export const HEARTBEAT_EVERY_MS = 5000;

/** The statuses of a run that some process is (or claims to be) training. */
export const LIVE_STATUSES = ['queued', 'running', 'paused'] as const;

/** LIVE_STATUSES as an SQL condition. */
export const LIVE_SQL = `status IN ('queued', 'running', 'paused')`;

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


/** The owner columns for a run this process starts. */
export function ownerOfThisProcess(): { pid: number; host: string } {
  return { pid: process.pid, host: os.hostname() };
}

