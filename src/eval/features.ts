// Encoder features of a whole data set for evaluation: one compiled graph per batch — the augment
// op's resize and normalisation of the un-augmented images, then the encoder with BatchNorm from
// running statistics.
import { compileFeatures } from '../compiler/compile.js';
import type { Dataset } from '../data/index.js';
import { imageBytes } from '../data/index.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ModelSpec } from '../ir/model-spec.js';
import type { Features } from './knn.js';

/** Images per feature pass: large enough to amortise dispatches, small enough for any adapter. */
const EVAL_BATCH = 256;

export async function extractFeatures(
  rt: Runtime,
  spec: ModelSpec,
  weights: Record<string, Float32Array>,
  data: Dataset,
  onProgress?: (done: number) => void,
): Promise<Features> {
  const batch = Math.min(EVAL_BATCH, data.count);
  const executor = await StepExecutor.create(rt, compileFeatures(spec, batch, rt.target), { initial: weights });
  const per = imageBytes(data);
  const out = executor.graph.outputs.features;
  const dim = out.shape[1];
  const features = new Float32Array(data.count * dim);
  try {
    for (let first = 0; first < data.count; first += batch) {
      // The last pass repeats earlier images to fill the batch; only the new rows are kept.
      const start = Math.min(first, data.count - batch);
      executor.write('images', data.images.subarray(start * per, (start + batch) * per));
      executor.record();
      const rows = await executor.read('features');
      features.set(rows.subarray((first - start) * dim), first * dim);
      onProgress?.(Math.min(data.count, first + batch));
    }
  } finally {
    executor.destroy();
  }
  return { data: features, count: data.count, dim, labels: data.labels ?? new Int32Array(data.count) };
}
