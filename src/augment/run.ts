// The augmentation alone as a compiled phase: the preview, `bench augment` and the tests run the
// augment op through the same compiler and executor as a training step.
import { compilePhase } from '../compiler/compile.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import type { PhaseSpec } from '../ir/phase.js';
import type { AugmentAttrs } from '../kernels/augment.js';

export function augmentPhase(attrs: AugmentAttrs, count: number): PhaseSpec {
  const { channels, height, width, dtype } = attrs.source;
  return { name: 'augment', input: { name: 'source', shape: [count, channels, height, width], dtype: dtype === 'uint8' ? 'u8' : 'f32' }, augment: attrs, mode: 'eval' };
}

/** An executor of the phase: write 'source' (and 'records' when given), set the step, record. */
export async function augmentExecutor(rt: Runtime, attrs: AugmentAttrs, count: number): Promise<StepExecutor> {
  return StepExecutor.create(rt, compilePhase(augmentPhase(attrs, count), rt.target).kernels);
}

/** Which draws to make: the run's seed and the 0-based training step. */
export interface DrawAt {
  seed: number;
  step: number;
}

/** The step scalars that make the augment op draw for `at` (the uniform's step counts from 1). */
export const drawScalars = (at: DrawAt) => ({ seed: at.seed, step: at.step + 1 });

export interface Augmented {
  /** [V·N, C, S, S]: view 1's rows, then view 2's. */
  views: Float32Array;
  /** [V·N, stride]: each image's record, as drawn or as given. */
  records: Float32Array;
}

/** One batch once: `images` [N, C, H, W] (uint8 or f32 as `attrs.source` says) in, views and records out. */
export async function runAugment(rt: Runtime, attrs: AugmentAttrs, images: Uint8Array | Float32Array, count: number, at: DrawAt, records?: Float32Array): Promise<Augmented> {
  const executor = await augmentExecutor(rt, { ...attrs, given: records !== undefined }, count);
  try {
    executor.write('source', images);
    if (records) executor.write('records', records);
    executor.setStep(drawScalars(at));
    executor.record();
    return { views: await executor.read('views'), records: records ?? (await executor.read('records')) };
  } finally {
    executor.destroy();
  }
}
