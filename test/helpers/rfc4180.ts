/** A strict RFC 4180 reader for tests: rows of cell texts as a spreadsheet shows them (quotes undone, CRLF or LF rows). */
export function parseRfc4180(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (cell !== '' || wasQuoted) {
        throw new Error(`quote inside an unquoted field at ${i}`);
      }
      quoted = wasQuoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      wasQuoted = false;
      i++;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      wasQuoted = false;
      i += c === '\r' ? 2 : 1;
    } else {
      if (wasQuoted) {
        throw new Error(`text after a closing quote at ${i}`);
      }
      cell += c;
      i++;
    }
  }
  if (quoted) {
    throw new Error('unterminated quoted field');
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** A top-k cell (`label:p|label:p`, labels escaped with `\`) back into labels and probabilities. */
export function parseTopk(cell: string): Array<{ label: string; probability: number }> {
  const entries: string[] = [];
  let cur = '';
  for (let i = 0; i < cell.length; i++) {
    if (cell[i] === '\\' && i + 1 < cell.length) {
      cur += cell[++i];
    } else if (cell[i] === '|') {
      entries.push(cur);
      cur = '';
    } else {
      cur += cell[i];
    }
  }
  entries.push(cur);
  return entries.map((e) => ({ label: e.slice(0, e.lastIndexOf(':')), probability: Number(e.slice(e.lastIndexOf(':') + 1)) }));
}
