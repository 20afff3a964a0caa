// Whole views on the GPU — fused and one kernel per op — against the float64 reference run from the
// host's draws of the same records: this checks the kernels and the two RNG implementations together.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileAugment, drawRecord, formatPipelines, referenceView, type AugOp, type Fusion } from '../../src/augment/index.js';
import { planar } from '../../src/kernels/augment/reference.js';
import { openSynthetic } from '../../src/data/index.js';
import { runtime } from '../../src/gpu/runtime.js';
import { runDrawn } from './util.js';

const COUNT = 8;
const [H, W, SIZE] = [20, 24, 16];
const C = 3 as const;
// A non-square source: synthetic 24×24 images without their last 4 rows.
const square = openSynthetic({ count: COUNT, size: W, channels: C, seed: 5 });
const source = new Uint8Array(COUNT * C * H * W);
for (let n = 0; n < COUNT; n++) for (let c = 0; c < C; c++) source.set(square.images.subarray((n * C + c) * W * W, (n * C + c) * W * W + H * W), (n * C + c) * H * W);

const mean = [0.4, 0.45, 0.5];
const std = [0.25, 0.2, 0.3];
const VIEW1: AugOp[] = [
  { op: 'random_resized_crop', p: 1, scale: [0.3, 1], ratio: [0.6, 1.6] },
  { op: 'flip', p: 0.5 },
  { op: 'rotate', p: 0.6, degrees: 40, padding: 'zeros' },
  { op: 'color_jitter', p: 0.8, brightness: 0.6, contrast: 0.6, saturation: 0.6, hue: 0.4 },
  { op: 'grayscale', p: 0.3 },
  { op: 'blur', p: 0.6, kernel: 5, sigma: [0.3, 2] },
  { op: 'normalize', mean, std },
];
// A geometric op after a colour op, a flip in the source's frame, a crop that may not fire.
const VIEW2: AugOp[] = [
  { op: 'flip', p: 0.5 },
  { op: 'random_resized_crop', p: 0.7, scale: [0.2, 0.8], ratio: [0.75, 1.33] },
  { op: 'color_jitter', p: 0.8, brightness: 0.4, contrast: 0.8, saturation: 0.4, hue: 0.2 },
  { op: 'rotate', p: 0.6, degrees: 30, padding: 'reflect' },
  { op: 'blur', p: 0.6, kernel: 3, sigma: [0.3, 1.5] },
  { op: 'grayscale', p: 0.3 },
  { op: 'normalize', mean, std },
];

// Unusual orders: colour and blur before any geometry (they run on the source resized to the view's
// size), a crop after a rotation, two jitters in one pass (two means, three sweeps).
const ODD1: AugOp[] = [
  { op: 'blur', p: 0.7, kernel: 3, sigma: [0.5, 1.5] },
  { op: 'grayscale', p: 0.5 },
  { op: 'rotate', p: 0.8, degrees: 45, padding: 'reflect' },
  { op: 'random_resized_crop', p: 1, scale: [0.3, 1], ratio: [0.5, 2] },
];
const ODD2: AugOp[] = [
  { op: 'color_jitter', p: 0.9, brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5 },
  { op: 'color_jitter', p: 0.9, brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5 },
];

async function check(fusion: Fusion, views2: [AugOp[], AugOp[]] = [VIEW1, VIEW2], count = COUNT): Promise<void> {
  const plan = compileAugment({ size: SIZE, views: views2 }, { channels: C, height: H, width: W, dtype: 'uint8' }, (await runtime()).target, { fusion });
  const { views } = await runDrawn(plan, source.subarray(0, count * C * H * W), count, 11, 2);
  const len = C * SIZE * SIZE;
  for (const v of [0, 1]) {
    for (let n = 0; n < count; n++) {
      const img = planar(C, H, W, Float64Array.from(source.subarray(n * C * H * W, (n + 1) * C * H * W), (b) => b / 255));
      const record = drawRecord(plan, v, { seed: 11, step: 2, image: n });
      const want = referenceView(plan, v, img, record).data;
      const got = views[v].subarray(n * len, (n + 1) * len);
      let worst = 0;
      for (let i = 0; i < len; i++) worst = Math.max(worst, Number.isFinite(got[i]) ? Math.abs(got[i] - want[i]) : Infinity);
      assert.ok(worst <= 2e-4, `${fusion} view ${v + 1} image ${n}: max error ${worst.toExponential(2)} (record ${[...record].map((x) => +x.toFixed(3))})`);
    }
  }
}

test('fused views equal the float64 reference (2e-4)', () => check('fused'));
test('per-op views equal the float64 reference (2e-4)', () => check('per-op'));
test('unusual op orders equal the float64 reference (2e-4)', () => check('fused', [ODD1, ODD2], 4));

test('fusion makes few passes; per-op one (blur two) per op', async () => {
  const target = (await runtime()).target;
  const source = { channels: C, height: H, width: W, dtype: 'uint8' } as const;
  const fused = compileAugment({ size: SIZE, views: [VIEW1, VIEW2] }, source, target);
  const perOp = compileAugment({ size: SIZE, views: [VIEW1, VIEW2] }, source, target, { fusion: 'per-op' });
  assert.equal(fused.views.map((v) => v.programs.length), [3, 4]);
  assert.equal(perOp.views.map((v) => v.programs.length), [8, 8]);
  // VIEW2 flips first: fused, its crop still samples the source; per-op, the flipped view-sized image.
  assert.is(fused.views[1].frames[1], 'source');
  assert.is(perOp.views[1].frames[1], 'view');
  for (let n = 0; n < 32; n++) {
    const [fired, top, left, h, w] = drawRecord(perOp, 1, { seed: 1, step: 0, image: n }).subarray(perOp.layout.offsets[1][1]);
    assert.ok(top + h <= SIZE && left + w <= SIZE, `per-op crop ${[fired, top, left, h, w]} leaves the ${SIZE}×${SIZE} frame`);
  }
  const text = formatPipelines(fused);
  assert.match(text, 'view 1:\n  1. random_resized_crop(p=1, scale=[0.3, 1], ratio=[0.6, 1.6])');
  assert.match(text, 'fused passes (3): augment_random_resized_crop_flip_rotate_color_jitter_grayscale → augment_blur_h → augment_blur_v_normalize');
});

test.run();
