// Which process owns a live run, read from a real library: a dead PID on this host, a stale heartbeat from
// another host, a claim that only one process can win.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../../src/library/open.js';
import { HEARTBEAT_STALE_MS } from '../../../src/runs/run-owner.js';
import { claimRun, settleOrphanedRuns } from '../../../src/runs/run-store.js';
import { listRuns, runRow } from '../../../src/runs/run-store.js';
import { tempDir } from '../../helpers/temp.js';

const opened: Array<{ lib: Library; cleanup: () => void }> = [];
afterEach(() => opened.splice(0).forEach(({ lib, cleanup }) => (lib.db.close(), cleanup())));

function library(): Library {
  const t = tempDir();
  const lib = openLibrary(t.dir);
  opened.push({ lib, cleanup: t.cleanup });
  return lib;
}

function addRun(lib: Library, status: string, owner: { pid: number | null; host: string | null }, heartbeat: number | null): number {
  return Number(
    lib.db
      .prepare(`INSERT INTO runs (arch, status, config, config_diff, created_at, heartbeat_at, owner_pid, owner_host) VALUES ('alexnet-small', ?, '{"datasetId":1,"epochs":1}', '{}', ?, ?, ?, ?)`)
      .run(status, Date.now(), heartbeat, owner.pid, owner.host).lastInsertRowid,
  );
}

const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('run owners', () => {
  it('a live run whose PID is dead on this host reads as interrupted at once, naming the process', () => {
    const lib = library();
    const pid = deadPid();
    const id = addRun(lib, 'running', { pid, host: os.hostname() }, Date.now());
    const row = runRow(lib.db, id);
    expect(row.status).toBe('interrupted');
    expect(row.error).toBe(`The process training this run (process ${pid} on ${os.hostname()}) ended unexpectedly; resume continues from its last checkpoint.`);
  });

  it('a run of a living process stays live, even with an old heartbeat (this host checks the PID)', () => {
    const lib = library();
    const id = addRun(lib, 'paused', { pid: process.pid, host: os.hostname() }, 0);
    expect(runRow(lib.db, id).status).toBe('paused');
    expect(() => claimRun(lib.db, id)).toThrow(`Run ${id} is paused in process ${process.pid} on ${os.hostname()}; stop it there first.`);
  });

  it('another host\'s run is judged by its heartbeat; rows without an owner too', () => {
    const lib = library();
    const now = Date.now();
    const fresh = addRun(lib, 'running', { pid: 1, host: 'elsewhere' }, now - 5000);
    const stale = addRun(lib, 'running', { pid: 1, host: 'elsewhere' }, now - HEARTBEAT_STALE_MS - 1000);
    const legacy = addRun(lib, 'queued', { pid: null, host: null }, now - HEARTBEAT_STALE_MS - 1000);
    const statuses = Object.fromEntries(listRuns(lib.db).map((r) => [r.id, r.status]));
    expect(statuses).toEqual({ [fresh]: 'running', [stale]: 'interrupted', [legacy]: 'interrupted' });
    expect(runRow(lib.db, legacy).error).toMatch(/^The process training this run ended unexpectedly/);
  });

  it('a claim makes this process the owner once; a second claim is refused', () => {
    const lib = library();
    const id = addRun(lib, 'stopped', { pid: deadPid(), host: os.hostname() }, 0);
    claimRun(lib.db, id);
    const row = runRow(lib.db, id);
    expect([row.status, row.owner_pid, row.owner_host]).toEqual(['queued', process.pid, os.hostname()]);
    expect(() => claimRun(lib.db, id)).toThrow(/is queued in process/);
    expect(settleOrphanedRuns(lib.db)).toBe(0);
  });
});
