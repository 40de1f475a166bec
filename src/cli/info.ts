import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, withStudio, type Command } from './command.js';

/** `convnet info`: version, library, and the compute backend a run would use. */
export const infoCommand: Command = {
  name: 'info',
  summary: 'Show version, library location and the compute backend',
  usage: 'convnet info [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS },
  optionHelp: [...LIBRARY_HELP],
  async run(args, io) {
    const info = await withStudio(args, io, (studio) => studio.call('app.info'));
    if (args.values.json) {
      printJson(io, info);
      return 0;
    }
    io.out(`${info.name} ${info.version}\n`);
    io.out(`library   ${info.libraryPath}\n`);
    const threads = info.backend.threads ? `, ${info.backend.threads} thread${info.backend.threads === 1 ? '' : 's'}` : '';
    io.out(`backend   ${info.backend.name} — ${info.backend.device ?? 'unknown device'}${threads}\n`);
    for (const probe of info.backend.probes) {
      io.out(`  ${probe.available ? '✓' : '✗'} ${probe.name.padEnd(10)} ${probe.reason}\n`);
    }
    io.out(`tfjs ${info.tfjs}, node ${info.node}, ${info.platform}\n`);
    return 0;
  },
};
