// Shared by the augmentation tests: run a plan on the GPU and read both views back.
import { runtime } from '../../src/gpu/runtime.js';
import { paramsBytes, recordAugment, recordViews, uploadSource, type AugmentPlan } from '../../src/augment/index.js';

export function viewLength(plan: AugmentPlan, count: number): number {
  return count * plan.source.channels * plan.height * plan.width;
}

async function setUp(plan: AugmentPlan, count: number) {
  const rt = await runtime();
  // NaN-filled so a pixel no kernel writes cannot pass.
  const outs = [0, 1].map(() => rt.upload(new Float32Array(viewLength(plan, count)).fill(NaN)));
  const read = () => Promise.all(outs.map((o) => rt.readF32(o, viewLength(plan, count))));
  return { rt, outs, read };
}

/** Views from explicit records ([view][image][stride] floats). */
export async function runWithRecords(plan: AugmentPlan, source: Float32Array | Uint8Array, count: number, records: Float32Array): Promise<Float32Array[]> {
  const { rt, outs, read } = await setUp(plan, count);
  await recordViews(rt, plan, { source: uploadSource(rt, source), count, params: rt.upload(records) }, outs[0], outs[1]);
  return read();
}

/** Views with parameters drawn on the device, and the records it drew. */
export async function runDrawn(plan: AugmentPlan, source: Float32Array | Uint8Array, count: number, seed: number, step = 0) {
  const { rt, outs, read } = await setUp(plan, count);
  const params = rt.buffer(paramsBytes(plan, count));
  await recordAugment(rt, plan, { source: uploadSource(rt, source), count, seed, step, params }, outs[0], outs[1]);
  const views = await read();
  return { views, records: await rt.readF32(params, paramsBytes(plan, count) / 4) };
}
