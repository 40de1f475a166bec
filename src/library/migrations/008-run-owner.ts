import type { Migration } from './index.js';

/**
 * The process that trains a live run (its PID and host name), so any reader can tell at once that a
 * run's owner is gone (same host: the PID is dead; another host: a stale heartbeat) instead of
 * waiting for the heartbeat to go stale at the next start-up.
 */
export const m008RunOwner: Migration = {
  version: 8,
  name: 'run owner',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN owner_host TEXT;
    `);
  },
};
