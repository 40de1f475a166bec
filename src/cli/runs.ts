import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type Command } from './command.js';
import { runsImportCli } from './torch-bundle.js';

const percent = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

/** `convnet runs`: the library's runs, newest first — the ids that eval, classify, export and resume take. */
export const runsCommand: Command = {
  name: 'runs',
  summary: 'List the runs in the library (their ids are what eval, classify, export and resume take), or import a trained PyTorch bundle',
  usage: 'convnet runs [list | import BUNDLE_DIR] [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS },
  optionHelp: [...LIBRARY_HELP],
  async run(args, io) {
    const [action = 'list', target, ...extra] = args.positionals;
    if (extra.length || !['list', 'import'].includes(action) || (action === 'import') !== (target !== undefined)) {
      throw new UsageError(`Usage: ${this.usage}`);
    }
    if (action === 'import') {
      return runsImportCli(args, io, target!);
    }
    const list = await withStudio(args, io, (studio) => studio.call('runs.list'));
    if (args.values.json) {
      printJson(io, list);
      return 0;
    }
    if (list.length === 0) {
      io.out('No runs yet. Start one with: convnet train --dataset ID|NAME\n');
      return 0;
    }
    const rows = list.map((r) => [
      String(r.id),
      r.datasetName ?? `#${r.datasetId}`,
      r.arch,
      r.status,
      `${r.epochsDone}/${r.epochs}`,
      percent(r.bestValTop1Error),
      percent(r.bestValTop5Error),
      r.backend ?? '-',
      new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' '),
    ]);
    const header = ['id', 'dataset', 'arch', 'status', 'epochs', 'top-1 err', 'top-5 err', 'backend', 'created (UTC)'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const left = new Set([1, 2, 3, 7]);
    const line = (cells: string[]): string => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd() + '\n';
    io.out(line(header));
    rows.forEach((row) => io.out(line(row)));
    // Why a run failed, or why it cannot be read (a broken stored config), one line each under the table.
    for (const r of list.filter((r) => r.error)) {
      io.out(`Run ${r.id}: ${r.error!.split('\n')[0]}\n`);
    }
    return 0;
  },
};
