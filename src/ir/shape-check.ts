// The shape errors a spec's network has, found without a device: the pre-training phase's forward
// graph is built on the CPU (shape rules only, no buffers), so `check` and the language server
// report at the layer what `compile` would otherwise be the first to find.
import '../kernels/index.js';
import { specErrorDiagnostic, type Diagnostic, type ResolvedSpec, type SpecSources } from '../spec/index.js';
import { ShapeError } from './graph.js';
import { buildForward } from './phase.js';
import { pretrainPhase } from './phases.js';

/** The smallest batch InfoNCE and training-mode BatchNorm accept: shapes past it do not depend on it. */
const CHECK_BATCH = 2;

export function shapeDiagnostics(spec: ResolvedSpec, sources: SpecSources): Diagnostic[] {
  try {
    buildForward(pretrainPhase(spec, CHECK_BATCH));
    return [];
  } catch (err) {
    if (err instanceof ShapeError) return [specErrorDiagnostic(err, sources)];
    throw err;
  }
}
