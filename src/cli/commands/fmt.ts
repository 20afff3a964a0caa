// `simclr-compile fmt FILE`: the spec in canonical layout, in its own syntax or converted with --to;
// `extends`, `use` and comments stay. YAML output starts with the modeline editors validate by.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatDiagnostic, formatSource } from '../../spec/index.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

type Syntax = 'simclr' | 'yaml';

export function registerFmt(program: Command): void {
  addSetOption(
    program
      .command('fmt')
      .description('print a spec in canonical layout, or convert it between .simclr and YAML')
      .argument('<file>', '.simclr or .yml spec file')
      .option('--to <syntax>', 'output syntax: simclr or yaml (default: the file’s own)')
      .option('--write', 'write the result to the file (with --to, next to it with the new extension)'),
  ).action((file: string, opts: { set: string[]; to?: string; write?: boolean }) => {
    const own: Syntax = /\.ya?ml$/i.test(file) ? 'yaml' : 'simclr';
    const to = (opts.to ?? own) as Syntax;
    if (to !== 'simclr' && to !== 'yaml') throw new Error(`--to must be simclr or yaml, got '${opts.to}'`);
    const target = to === own ? file : file.replace(/\.(simclr|ya?ml)$/i, '') + (to === 'yaml' ? '.yml' : '.simclr');
    // An unreadable file is reported by the loader, as every command reports it.
    if (!existsSync(file)) return void loadOrReport(file, opts.set);
    const { text, diagnostics } = formatSource(readFileSync(file, 'utf8'), file, to, { set: opts.set, target });
    for (const d of diagnostics) console.error(formatDiagnostic(d));
    if (text === undefined) {
      process.exitCode = 1;
      return;
    }
    if (opts.write) writeFileSync(target, text);
    else process.stdout.write(text);
  });
}
