// augment as a registered op: its WGSL (the draws, then each view's passes) against its float64
// reference from the same per-step scalars, so both key the draws by (seed, 0-based step).
import { test } from 'uvu';
import { defaultView, type AugOp } from '../../src/augment/index.js';
import { STEP_DEFAULTS } from '../../src/kernels/index.js';
import { checkOp } from '../helpers/check-op.js';
import { randoms } from '../helpers/numeric.js';

const SOURCE = { channels: 3 as const, height: 14, width: 12, dtype: 'f32' as const };
const pixels = (n: number) => randoms(n, 3, 0, 1);
const VIEW = defaultView(10, [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]);
const OTHER: AugOp[] = [{ op: 'rotate', p: 0.7, degrees: 20, padding: 'reflect' }, ...VIEW.slice(0, 2), { op: 'color_jitter', p: 0.9, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }];

test('two drawn views and their records match the reference at steps 1 and 5', async () => {
  const attrs = { size: 10, views: [VIEW, OTHER], source: SOURCE };
  for (const step of [1, 5]) await checkOp('augment', [[6, 3, 14, 12]], attrs, { inputs: [pixels(6 * 3 * 14 * 12)], step: { ...STEP_DEFAULTS, seed: 9, step }, tol: 2e-4 });
});

test("evaluation's one view (resize and normalize) matches the reference", async () => {
  const attrs = { size: 16, views: [[{ op: 'normalize', mean: [0.4], std: [0.3] }]], source: { ...SOURCE, channels: 1 as const } };
  await checkOp('augment', [[5, 1, 14, 12]], attrs, { inputs: [pixels(5 * 14 * 12)], step: STEP_DEFAULTS, tol: 2e-4 });
});

test.run();
