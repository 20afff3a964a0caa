// Shared by the augmentation tests: the augment op compiled alone for a plan's pipeline, run by the
// step executor, both views read back.
import { runtime } from '../../src/gpu/runtime.js';
import { augmentExecutor, drawScalars, type AugmentAttrs, type AugmentPlan } from '../../src/augment/index.js';

export function viewLength(plan: AugmentPlan, count: number): number {
  return count * plan.source.channels * plan.height * plan.width;
}

const attrsOf = (plan: AugmentPlan, given: boolean): AugmentAttrs => ({
  size: plan.height,
  height: plan.height,
  width: plan.width,
  views: plan.views.map((v) => v.ops),
  source: plan.source,
  fusion: plan.fusion,
  given,
});

async function run(plan: AugmentPlan, source: Float32Array | Uint8Array, count: number, seed: number, step: number, records?: Float32Array) {
  const rt = await runtime();
  const executor = await augmentExecutor(rt, attrsOf(plan, records !== undefined), count);
  try {
    // NaN-filled so a pixel no kernel writes cannot pass.
    rt.write(executor.buffer('views'), new Float32Array(2 * viewLength(plan, count)).fill(NaN));
    executor.write('source', source);
    if (records) executor.write('records', records);
    executor.setStep(drawScalars({ seed, step }));
    executor.record();
    const both = await executor.read('views');
    const views = [both.slice(0, viewLength(plan, count)), both.slice(viewLength(plan, count))];
    return { views, records: records ?? (await executor.read('records')) };
  } finally {
    executor.destroy();
  }
}

/** Views from explicit records ([view][image][stride] floats). */
export async function runWithRecords(plan: AugmentPlan, source: Float32Array | Uint8Array, count: number, records: Float32Array): Promise<Float32Array[]> {
  return (await run(plan, source, count, 0, 0, records)).views;
}

/** Views with parameters drawn on the device, and the records it drew. */
export async function runDrawn(plan: AugmentPlan, source: Float32Array | Uint8Array, count: number, seed: number, step = 0) {
  return run(plan, source, count, seed, step);
}
