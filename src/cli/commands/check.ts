// `simclr-compile check FILE...`: every diagnostic of every spec, exit 1 when any has an error.
import type { Command } from 'commander';
import { fitDiagnostics } from '../../compiler/fit-check.js';
import { shapeDiagnostics } from '../../ir/shape-check.js';
import { NoAdapterError } from '../../gpu/device.js';
import { knownTarget } from '../../gpu/known-target.js';
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
    // Only an f16 spec needs the adapter itself; whether a step fits needs its limits, recorded by
    // the last process that opened it (or found by opening it once, when none did).
    const f16 = loaded.some((l) => l.spec?.train.precision === 'f16');
    const target = f16 ? (await runtime()).target : undefined;
    const anySound = loaded.some((l) => l.spec && !hasErrors(l.diagnostics));
    const limits = anySound ? (knownTarget() ?? (await openedTarget())) : undefined;
    const all = loaded.flatMap((l) => {
      if (!l.spec) return l.diagnostics;
      const shapes = shapeDiagnostics(l.spec, l.sources);
      const sound = !hasErrors([...l.diagnostics, ...shapes]);
      return [
        ...l.diagnostics,
        ...shapes,
        ...(target ? precisionDiagnostics(l.spec, l.sources, target) : []),
        ...(sound && limits ? fitDiagnostics(l.spec, l.sources, limits.target, limits.description) : []),
      ];
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

/** The adapter's limits from opening it; a machine without one checks everything but the fit. */
async function openedTarget(): Promise<{ target: Target; description: string } | undefined> {
  try {
    const rt = await runtime();
    return knownTarget() ?? { target: rt.target, description: 'this adapter' };
  } catch (err) {
    if (err instanceof NoAdapterError) return undefined;
    throw err;
  }
}

/** An f16 spec on an adapter without shader-f16, located at its train.precision. */
function precisionDiagnostics(spec: ResolvedSpec, sources: SpecSources, target: Target): Diagnostic[] {
  const problem = precisionProblem(spec.train.precision, target);
  return problem ? [diagnostic('E0701', sourceRange(sources, ['train', 'precision']), problem)] : [];
}
