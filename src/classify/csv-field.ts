/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @, tab and CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field of text a user or a model folder supplied (RFC 4180): a field a spreadsheet would take for a
 * formula gets a leading `'` and quotes (the cell shows `'=…` as text), and a field holding a comma, quote or
 * line break is quoted with its quotes doubled. Numbers the app formats itself need none of it.
 */
export function csvField(value: string): string {
  if (FORMULA_START.test(value)) {
    return `"'${value.replace(/"/g, '""')}"`;
  }
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
