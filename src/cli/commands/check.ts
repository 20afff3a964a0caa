// `simclr-compile check FILE...`: every diagnostic of every spec, exit 1 when any has an error.
import type { Command } from 'commander';
import { shapeDiagnostics } from '../../ir/shape-check.js';
import { formatDiagnostic, hasErrors, loadSpecFile } from '../../spec/index.js';
import { addSetOption } from '../spec-arg.js';

export function registerCheck(program: Command): void {
  addSetOption(
    program
      .command('check')
      .description('validate specs: print every error as file:line:col, exit 1 when there is one')
      .argument('<files...>', '.simclr or .yml spec files')
      .option('--json', 'print the diagnostics as one JSON array'),
  ).action((files: string[], opts: { set: string[]; json?: boolean }) => {
    const all = files.flatMap((file) => {
      const loaded = loadSpecFile(file, { set: opts.set });
      return loaded.spec ? [...loaded.diagnostics, ...shapeDiagnostics(loaded.spec, loaded.sources)] : loaded.diagnostics;
    });
    if (opts.json) console.log(JSON.stringify(all));
    else {
      for (const d of all) console.log(formatDiagnostic(d));
      const errors = all.filter((d) => d.severity === 'error').length;
      const warnings = all.length - errors;
      console.log(errors || warnings ? `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}` : `${files.length} spec${files.length === 1 ? '' : 's'} ok`);
    }
    if (hasErrors(all)) process.exitCode = 1;
  });
}
