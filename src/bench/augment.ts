// `bench augment`: images/s of the default two-view pipeline, fused vs one kernel per op, at MNIST's
// 28×28×1 and at 96×96×3 (STL-10's size), uint8 sources on the device as training holds them. Each
// configuration is the augment op compiled alone and run by the step executor, as in training.
import { augmentExecutor, defaultView, drawScalars, type Fusion } from '../augment/index.js';
import { openSynthetic } from '../data/index.js';
import { runtime } from '../gpu/runtime.js';
import { augmentPlan } from '../kernels/augment.js';
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
      const view = defaultView(shape.size, shape.mean, shape.std);
      for (const fusion of ['fused', 'per-op'] as Fusion[]) {
        const attrs = { size: shape.size, views: [view, view], source: { channels: shape.channels, height: shape.size, width: shape.size, dtype: 'uint8' as const }, fusion };
        const executor = await augmentExecutor(rt, attrs, batch);
        executor.write('source', data.images);
        let step = 0;
        try {
          const timing = await measure(
            async () => {
              executor.setStep(drawScalars({ seed: 1, step: step++ }));
              executor.record();
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
            passes_per_view: augmentPlan(attrs, rt.target).views[0].programs.length,
            images_per_s: round((batch * 1000) / timing.median_ms, 1),
            ...timing,
          });
        } finally {
          executor.destroy();
        }
      }
    }
  },
};
