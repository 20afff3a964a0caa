// `simclr-compile check FILE...`: every diagnostic of every spec, exit 1 when any has an error.
import type { Command } from 'commander';
import { shapeDiagnostics } from '../../ir/shape-check.js';
import { runtime } from '../../gpu/runtime.js';
import type { Target } from '../../kernels/op.js';
import { precisionProblem } from '../../train/loss-scale.js';
import { formatDiagnostic, hasErrors, loadSpecFile, sourceRange, type Diagnostic, type ResolvedSpec, type SpecSources } from '../../spec/index.js';
import { diagnostic } from '../../spec/diagnostic.js';
import { addSetOption } from '../spec-arg.js';

export function registerCheck(program: Command): void {
  addSetOption(
    program
      .command('check')
      .description('validate specs: print every error as file:line:col, exit 1 when there is one')
      .argument('<files...>', '.simclr or .yml spec files')
      .option('--json', 'print the diagnostics as one JSON array'),
  ).action(async (files: string[], opts: { set: string[]; json?: boolean }) => {
    const loaded = files.map((file) => loadSpecFile(file, { set: opts.set }));
    // Only an f16 spec needs the adapter: checking f32 specs stays free of the GPU.
    const f16 = loaded.some((l) => l.spec?.train.precision === 'f16');
    const target = f16 ? (await runtime()).target : undefined;
    const all = loaded.flatMap((l) => {
      if (!l.spec) return l.diagnostics;
      return [...l.diagnostics, ...shapeDiagnostics(l.spec, l.sources), ...(target ? precisionDiagnostics(l.spec, l.sources, target) : [])];
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

/** An f16 spec on an adapter without shader-f16, located at its train.precision. */
function precisionDiagnostics(spec: ResolvedSpec, sources: SpecSources, target: Target): Diagnostic[] {
  const problem = precisionProblem(spec.train.precision, target);
  return problem ? [diagnostic('E0701', sourceRange(sources, ['train', 'precision']), problem)] : [];
}
