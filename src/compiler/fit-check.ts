// Whether a spec's training step fits an adapter, as diagnostics at the field to change: the same
// compile `run` does (chunked where it must be), so `check` and the language server say before a
// run what the run would stop on (E0601, E0602), on a CPU, from the adapter's recorded limits.
import type { Target } from '../kernels/op.js';
import { optimizerFor } from '../ir/optimizer.js';
import { isSpecError, specErrorDiagnostic, type Diagnostic, type ResolvedSpec, type SpecSources } from '../spec/index.js';
import { ChunkError } from './chunk.js';
import { compile } from './compile.js';

export function fitDiagnostics(spec: ResolvedSpec, sources: SpecSources, target: Target, adapter: string): Diagnostic[] {
  // A data-parallel step is compiled per process and never chunked: this whole-batch step is not what it runs.
  if ((spec.train.devices ?? 1) > 1) return [];
  try {
    compile({ ...spec, optimizer: optimizerFor(spec.optimizer, spec.train.batch_size) }, { target });
    return [];
  } catch (err) {
    if (err instanceof ChunkError) return [specErrorDiagnostic(Object.assign(err, { message: `${err.message} (limits of ${adapter})` }), sources)];
    // Any other coded error of the full step (a shape only the real batch shows) is the spec's too.
    if (isSpecError(err)) return [specErrorDiagnostic(err, sources)];
    throw err;
  }
}
