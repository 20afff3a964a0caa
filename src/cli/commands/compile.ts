// `simclr-compile compile SPEC --out DIR`: the spec's training step as WGSL kernels, the kernel graph
// as JSON and a summary (kernels, FLOPs, planned peak memory against one buffer per tensor).
import type { Command } from 'commander';
import { compile } from '../../compiler/compile.js';
import { formatSummary, summarize, writeCompiled } from '../../compiler/output.js';
import { resolveTarget, type TargetChoice } from '../target.js';
import { optimizerFor } from '../../ir/optimizer.js';
import { formatDiagnostic, isSpecError, specErrorDiagnostic } from '../../spec/index.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

interface CompileFlags {
  out: string;
  batch?: string;
  target: TargetChoice;
  fuse: boolean;
  set: string[];
  json?: boolean;
}

export function registerCompile(program: Command): void {
  addSetOption(program
    .command('compile')
    .description("compile a spec's training step (augmentation, forward, backward, optimizer) into WGSL kernels with a planned memory layout")
    .argument('<spec>', '.simclr or .yml spec file')
    .requiredOption('--out <dir>', 'folder for kernels/*.wgsl, kernel-graph.json and summary.txt')
    .option('--batch <n>', 'images per view (default: the spec’s train.batch_size)')
    .option('--target <kind>', 'plan kernels for: auto (the adapter found), software, discrete', 'auto')
    .option('--no-fuse', 'one kernel per graph node (no fusion)')
    .option('--json', 'print the summary as one JSON object')
  ).action(async (file: string, flags: CompileFlags) => {
      const loaded = loadOrReport(file, flags.set);
      if (!loaded) return;
      const spec = loaded.spec;
      const batch = flags.batch ? Number(flags.batch) : spec.train.batch_size;
      if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${flags.batch}`);
      const { target, description } = await resolveTarget(flags.target);
      let compiled;
      try {
        compiled = compile({ ...spec, optimizer: optimizerFor(spec.optimizer, batch) }, { target, batch, fuse: flags.fuse });
      } catch (err) {
        // A shape that cannot be built, a step that cannot fit: shown at the spec field to change.
        if (!isSpecError(err)) throw err;
        console.error(formatDiagnostic(specErrorDiagnostic(err, loaded.sources)));
        process.exitCode = 1;
        return;
      }
      const used = spec.train.precision;
      // The other precision is planned too, so the summary shows what f16 saves (or would).
      const other = used === 'f16' ? 'f32' : 'f16';
      const otherBytes = compile({ ...spec, optimizer: optimizerFor(spec.optimizer, batch) }, { target, batch, fuse: flags.fuse, precision: other }).kernels.memory.plannedBytes;
      const planned = compiled.kernels.memory.plannedBytes;
      const precision = { used, plannedBytes: used === 'f16' ? { f16: planned, f32: otherBytes } : { f32: planned, f16: otherBytes } };
      const summary = { ...summarize(compiled.graph, compiled.kernels, compiled.chunking), precision };
      const written = writeCompiled(flags.out, compiled.kernels, summary, `${spec.name}: ${batch} images per view, target ${description}`, compiled.lowered);
      if (flags.json) console.log(JSON.stringify({ spec: spec.name, batch, target: description, out: flags.out, ...summary }));
      else console.log(`${formatSummary(summary, `${spec.name}: ${batch} images per view, target ${description}`)}\nwrote ${written.length} files to ${flags.out}`);
    });
}
