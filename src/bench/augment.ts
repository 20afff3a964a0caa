// `bench augment`: images/s of the default two-view pipeline, fused vs one kernel per op, at MNIST's
// 28×28×1 and at 96×96×3 (STL-10's size), uint8 sources on the device as training holds them.
import { compileAugment, defaultView, recordAugment, uploadSource, type Fusion } from '../augment/index.js';
import { openSynthetic } from '../data/index.js';
import { runtime } from '../gpu/runtime.js';
import { measure, round, type BenchSuite } from './measure.js';

const SHAPES = [
  { size: 28, channels: 1 as const, batch: 256, quickBatch: 32, mean: [0.1307], std: [0.3081] },
  { size: 96, channels: 3 as const, batch: 64, quickBatch: 8, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
];

export const augmentSuite: BenchSuite = {
  name: 'augment',
  description: 'two augmented views of a batch on the device: fused passes vs one kernel per op',
  async run({ repeats, quick }, emit) {
    const rt = await runtime();
    for (const shape of SHAPES) {
      const batch = quick ? shape.quickBatch : shape.batch;
      const data = openSynthetic({ count: batch, size: shape.size, channels: shape.channels });
      const source = uploadSource(rt, data.images, 'bench source');
      const viewBytes = batch * shape.channels * shape.size * shape.size * 4;
      const outs = [rt.buffer(viewBytes, 'view 1'), rt.buffer(viewBytes, 'view 2')];
      const view = defaultView(shape.size, shape.mean, shape.std);
      for (const fusion of ['fused', 'per-op'] as Fusion[]) {
        const plan = compileAugment({ size: shape.size, views: [view, view] }, { channels: shape.channels, height: shape.size, width: shape.size, dtype: 'uint8' }, rt.target, { fusion });
        let step = 0;
        const timing = await measure(
          async () => {
            await recordAugment(rt, plan, { source, count: batch, seed: 1, step: step++ }, outs[0], outs[1]);
            await rt.sync();
          },
          { warmup: 1, repeats },
        );
        emit({
          bench: 'augment',
          impl: fusion,
          size: shape.size,
          channels: shape.channels,
          batch,
          passes_per_view: plan.views[0].programs.length,
          images_per_s: round((batch * 1000) / timing.median_ms, 1),
          ...timing,
        });
      }
    }
  },
};
