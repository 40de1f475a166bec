import type { Database } from 'better-sqlite3';
import { m001Base } from './001-base.js';
import { m002Datasets } from './002-datasets.js';
import { m003Runs } from './003-runs.js';
import { m004Predictions } from './004-predictions.js';
import { m005Models } from './005-models.js';
import { m006ImageCounts } from './006-image-counts.js';
import { m007ValFromTrain } from './007-val-from-train.js';
import { m008RunOwner } from './008-run-owner.js';
import { m009TimeLimitMinutes } from './009-time-limit-minutes.js';
import { m010RunLineage } from './010-run-lineage.js';
import { m011Insight } from './011-insight.js';

/** One numbered schema change; `up` runs inside a transaction at library open. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

/** Every migration, in order. Append new ones; never edit one that has shipped. */
export const migrations: Migration[] = [m001Base, m002Datasets, m003Runs, m004Predictions, m005Models, m006ImageCounts, m007ValFromTrain, m008RunOwner, m009TimeLimitMinutes, m010RunLineage, m011Insight];
