// The pre-training phase's forward program and loss as a model: what graph-level tests differentiate.
// They feed the views themselves, so the spec's augmentation ops are left out.
import '../../src/kernels/index.js';
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { buildForward } from '../../src/ir/phase.js';
import { pretrainPhase } from '../../src/ir/phases.js';

export function buildModel(spec: ModelSpec, batch: number) {
  const built = buildForward(pretrainPhase({ ...spec, augment: { size: spec.augment.size } }, batch));
  return { graph: built.graph, views: built.input, z: built.output, loss: built.loss!, params: built.params };
}
