// Encoder features of a whole data set for evaluation: the inference graph (BatchNorm from running
// statistics) over batches of un-augmented images, resized to the training view size and normalised
// as in training.
import { compileAugment, recordAugment } from '../augment/index.js';
import type { AugOp, AugmentSpec } from '../augment/types.js';
import { compileFeatures } from '../compiler/compile.js';
import type { Dataset } from '../data/index.js';
import { imageBytes } from '../data/index.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ModelSpec } from '../ir/model-spec.js';
import type { Features } from '../eval/knn.js';

/** Images per feature pass: large enough to amortise dispatches, small enough for any adapter. */
const EVAL_BATCH = 256;

/** Only the view's normalisation: evaluation sees whole images, as the papers' kNN monitor does. */
export function evalAugment(augment: AugmentSpec): AugmentSpec {
  const normalize = augment.views[0].filter((op): op is Extract<AugOp, { op: 'normalize' }> => op.op === 'normalize');
  return { size: augment.size, views: [normalize, normalize] };
}

export async function extractFeatures(
  rt: Runtime,
  spec: ModelSpec & { augment: AugmentSpec },
  weights: Record<string, Float32Array>,
  data: Dataset,
  onProgress?: (done: number) => void,
): Promise<Features> {
  const batch = Math.min(EVAL_BATCH, data.count);
  const executor = await StepExecutor.create(rt, compileFeatures(spec, batch, rt.target), { initial: weights });
  const plan = compileAugment(evalAugment(spec.augment), { channels: data.channels as 1 | 3, height: data.height, width: data.width, dtype: 'uint8' }, rt.target);
  const per = imageBytes(data);
  const source = rt.buffer(batch * per, 'eval images');
  const spare = rt.buffer(batch * data.channels * spec.augment.size ** 2 * 4, 'eval spare view');
  const out = executor.graph.outputs.features;
  const dim = out.shape[1];
  const features = new Float32Array(data.count * dim);
  try {
    for (let first = 0; first < data.count; first += batch) {
      // The last pass repeats earlier images to fill the batch; only the new rows are kept.
      const start = Math.min(first, data.count - batch);
      rt.write(source, data.images.subarray(start * per, (start + batch) * per));
      await recordAugment(rt, plan, { source, count: batch, seed: 0, step: 0 }, executor.buffer('images'), spare);
      executor.record();
      const rows = await executor.read('features');
      features.set(rows.subarray((first - start) * dim), first * dim);
      onProgress?.(Math.min(data.count, first + batch));
    }
  } finally {
    executor.destroy();
    source.destroy();
    spare.destroy();
  }
  return { data: features, count: data.count, dim, labels: data.labels ?? new Int32Array(data.count) };
}
