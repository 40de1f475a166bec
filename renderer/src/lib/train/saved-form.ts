// The Train form kept between sessions (localStorage, one entry per library): its settings and the datasets it
// had seen, so a reload restores the form and a dataset imported since is the one it offers.

/** What is kept: the form's fields and the ids of the datasets the form knew. */
export interface SavedForm {
  form: Record<string, unknown>;
  seenDatasets: number[];
}

function keyOf(library: string): string {
  return `convnet.train-form:${library}`;
}

/** The saved form of `library`, or null (nothing saved, storage off, or unreadable). */
export function loadSavedForm(library: string): SavedForm | null {
  try {
    const raw = globalThis.localStorage?.getItem(keyOf(library));
    const parsed = raw ? (JSON.parse(raw) as Partial<SavedForm>) : null;
    if (!parsed || typeof parsed.form !== 'object' || parsed.form === null) {
      return null;
    }
    return { form: parsed.form, seenDatasets: Array.isArray(parsed.seenDatasets) ? parsed.seenDatasets.filter((n) => typeof n === 'number') : [] };
  } catch {
    return null;
  }
}

/** Saves the form of `library`; a full or disabled storage only means the form is not remembered. */
export function saveForm(library: string, saved: SavedForm): void {
  try {
    globalThis.localStorage?.setItem(keyOf(library), JSON.stringify(saved));
  } catch {
    // Not remembered this time; nothing else depends on it.
  }
}

/**
 * The dataset the form should show: the newest of those imported since the form last looked (a dataset just
 * imported), else the current choice while it exists, else the newest dataset.
 */
export function datasetToSelect(current: number | null, usable: Array<{ id: number; createdAt: number }>, seen: Set<number> | null): number | null {
  const newest = (list: Array<{ id: number; createdAt: number }>): number | null =>
    list.reduce<{ id: number; createdAt: number } | null>((best, d) => (!best || d.createdAt > best.createdAt || (d.createdAt === best.createdAt && d.id > best.id) ? d : best), null)?.id ?? null;
  const fresh = seen ? usable.filter((d) => !seen.has(d.id)) : [];
  if (fresh.length > 0) {
    return newest(fresh);
  }
  return current !== null && usable.some((d) => d.id === current) ? current : newest(usable);
}
