import type { SplitName } from '../api/datasets.js';

/** One row of delimited text: its fields, or why it could not be read. */
export interface DelimitedRow {
  line: number;
  fields: string[];
  /** Set when the row is unreadable (an unterminated quote); `fields` is then empty. */
  error?: string;
}

/**
 * Splits delimited text into rows of fields (RFC 4180 quoting: "a,b", "say ""hi"""), with 1-based line numbers.
 * A quote never closed is reported on its row, and reading goes on at the next line (instead of the rest of
 * the file becoming one field).
 */
export function parseDelimited(text: string, delimiter: string): DelimitedRow[] {
  const rows: DelimitedRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let quoteAt = 0;
  let quoteLine = 1;
  let line = 1;
  let rowLine = 1;
  const endRow = (): void => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== '') {
      rows.push({ line: rowLine, fields });
    }
    fields = [];
    field = '';
  };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length) {
      if (!quoted) {break;}
      // Unterminated: the row is reported, and reading restarts on the line after the opening quote.
      rows.push({ line: rowLine, fields: [], error: 'unterminated quote (a field opened with " is never closed); the line is not read' });
      const next = body.slice(quoteAt).search(/\r\n?|\n/);
      fields = [];
      field = '';
      quoted = false;
      line = quoteLine + 1;
      rowLine = line;
      if (next < 0) {return rows;}
      i = quoteAt + next + (body.startsWith('\r\n', quoteAt + next) ? 1 : 0);
      continue;
    }
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') {line++;}
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      quoteAt = i;
      quoteLine = line;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') {i++;}
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0) {
    endRow();
  }
  return rows;
}

const PATH_NAMES = new Set(['path', 'file', 'filename', 'file_name', 'filepath', 'file_path', 'image', 'image_path', 'img']);
const LABEL_NAMES = new Set(['label', 'class', 'category', 'class_name', 'classname', 'target']);
const SPLIT_NAMES = new Set(['split', 'subset', 'set', 'fold', 'partition']);

/** Reads a split's name as written in folders or CSVs ("validation" → val); null if it is none. */
export function normaliseSplit(text: string): SplitName | null {
  switch (text.trim().toLowerCase()) {
    case 'train':
    case 'training':
      return 'train';
    case 'val':
    case 'valid':
    case 'validation':
      return 'val';
    case 'test':
    case 'testing':
      return 'test';
    default:
      return null;
  }
}

/** One usable row of a labels file, or the reason a row is not. */
export type LabelRow =
  | { ok: true; line: number; path: string; label: string; split: SplitName | null }
  | { ok: false; line: number; path: string | null; reason: string };

/** Reads a `path,label[,split]` CSV (or TSV) with or without a header row. */
export function parseLabelsFile(text: string, delimiter: string): LabelRow[] {
  const rows = parseDelimited(text, delimiter).filter((r) => r.error !== undefined || !r.fields[0]!.trimStart().startsWith('#'));
  if (rows.length === 0) {
    return [];
  }
  let pathCol = 0;
  let labelCol = 1;
  let splitCol = 2;
  const first = (rows[0]!.error ? [] : rows[0]!.fields).map((f) => f.trim().toLowerCase());
  const header = first.some((f) => PATH_NAMES.has(f)) && first.some((f) => LABEL_NAMES.has(f));
  if (header) {
    rows.shift();
    pathCol = first.findIndex((f) => PATH_NAMES.has(f));
    labelCol = first.findIndex((f) => LABEL_NAMES.has(f));
    splitCol = first.findIndex((f) => SPLIT_NAMES.has(f));
  }
  return rows.map(({ line, fields, error }): LabelRow => {
    if (error !== undefined) {
      return { ok: false, line, path: null, reason: `line ${line}: ${error}` };
    }
    const path = fields[pathCol]?.trim() ?? '';
    const label = fields[labelCol]?.trim() ?? '';
    if (path === '') {
      return { ok: false, line, path: null, reason: `line ${line}: no file path` };
    }
    if (label === '') {
      return { ok: false, line, path, reason: `line ${line}: no label` };
    }
    const splitText = splitCol >= 0 ? (fields[splitCol]?.trim() ?? '') : '';
    const split = splitText === '' ? null : normaliseSplit(splitText);
    if (splitText !== '' && !split) {
      return { ok: false, line, path, reason: `line ${line}: unknown split "${splitText.slice(0, 40)}" (train, val or test expected)` };
    }
    return { ok: true, line, path, label, split };
  });
}
