// `simclr-compile print FILE`: the spec as the front end reads it, or with --resolved as every later
// stage sees it (presets expanded, every default filled), in `.simclr` or JSON.
import type { Command } from 'commander';
import { formatSpec } from '../../spec/index.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

export function registerPrint(program: Command): void {
  addSetOption(
    program
      .command('print')
      .description('print a spec, or with --resolved the fully resolved spec (presets expanded, defaults filled)')
      .argument('<file>', '.simclr or .yml spec file')
      .option('--resolved', 'print the resolved spec')
      .option('--json', 'print JSON instead of .simclr'),
  ).action((file: string, opts: { set: string[]; resolved?: boolean; json?: boolean }) => {
    const loaded = loadOrReport(file, opts.set);
    if (!loaded) return;
    const spec = opts.resolved ? loaded.spec : loaded.input;
    process.stdout.write(opts.json ? JSON.stringify(spec, null, 2) + '\n' : formatSpec(spec, 'simclr'));
  });
}
