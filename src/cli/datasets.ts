import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, withStudio, type Command } from './command.js';

/** Bytes in a unit people read (KB, MB, GB). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `convnet datasets`: the library's datasets with counts, balance, size and warnings. */
export const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'List the datasets in the library',
  usage: 'convnet datasets [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS },
  optionHelp: [...LIBRARY_HELP],
  async run(args, io) {
    const list = await withStudio(args, io, (studio) => studio.call('datasets.list'));
    if (args.values.json) {
      printJson(io, list);
      return 0;
    }
    if (list.length === 0) {
      io.out('No datasets yet. Import one with: convnet import DIR\n');
      return 0;
    }
    const rows = list.map((d) => [
      String(d.id),
      d.name,
      String(d.images),
      String(d.classes),
      `${d.splits.train}/${d.splits.val}/${d.splits.test}`,
      d.classes ? `${d.balance.smallest}–${d.balance.largest}` : '-',
      formatBytes(d.sizeBytes),
      d.state,
    ]);
    const header = ['id', 'name', 'images', 'classes', 'train/val/test', 'per class', 'size', 'state'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd() + '\n';
    io.out(line(header));
    for (const [i, row] of rows.entries()) {
      io.out(line(row));
      for (const warning of list[i]!.warnings) {io.out(`    ! ${warning}\n`);}
    }
    return 0;
  },
};
