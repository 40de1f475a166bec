// The Classify view's state, kept for the app's lifetime so a visit to another view loses nothing.
import { ModelExporter } from './export-model.svelte';
import { ClassifyRun } from './job.svelte';
import { ModelChoice } from './models.svelte';

/** Runs and models to classify with, and the choice. */
export const choice = new ModelChoice();
/** The current classification job. */
export const classifyRun = new ClassifyRun();
/** The model export and its parity check. */
export const exporter = new ModelExporter();
