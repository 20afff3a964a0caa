// Parameters drawn on the device: they equal the host's draws, each op fires at its probability,
// ranges are respected and covered, and seeds reproduce (or change) the views.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileAugment, defaultView, drawRecord, type AugOp, type AugmentPlan } from '../../src/augment/index.js';
import { openMnist } from '../../src/data/index.js';
import { runtime } from '../../src/gpu/runtime.js';
import { runDrawn } from './util.js';

const COUNT = 512;
const SIZE = 28;
const mnist = openMnist('test');
const source = mnist.images.subarray(0, COUNT * SIZE * SIZE);
const view = defaultView(SIZE, [0.1307], [0.3081]);
const view2: AugOp[] = view.map((op) => (op.op === 'flip' ? { op: 'flip', p: 0.7 } : op.op === 'blur' ? { ...op, p: 0.1 } : op));

let plan: AugmentPlan;
let drawn: Awaited<ReturnType<typeof runDrawn>>;

test.before(async () => {
  plan = compileAugment({ size: SIZE, views: [view, view2] }, { channels: 1, height: SIZE, width: SIZE, dtype: 'uint8' }, (await runtime()).target);
  drawn = await runDrawn(plan, source, COUNT, 7, 3);
});

const record = (v: number, n: number) => drawn.records.subarray((v * COUNT + n) * plan.layout.stride, (v * COUNT + n + 1) * plan.layout.stride);
const slots = (v: number, opIndex: number, n: number) => record(v, n).subarray(plan.layout.offsets[v][opIndex]);

test('device records equal the host draws (integers exactly, reals to 1e-6)', () => {
  for (const v of [0, 1]) {
    for (let n = 0; n < COUNT; n++) {
      const want = drawRecord(plan, v, { seed: 7, step: 3, image: n });
      const got = record(v, n);
      for (let k = 0; k < want.length; k++) {
        const tol = Number.isInteger(want[k]) ? 0 : 1e-6 * Math.max(1, Math.abs(want[k]));
        assert.ok(Math.abs(got[k] - want[k]) <= tol, `view ${v + 1} image ${n} slot ${k}: device ${got[k]} host ${want[k]}`);
      }
    }
  }
});

test('each op fires at its probability (within 4.5 binomial σ)', () => {
  for (const v of [0, 1]) {
    plan.views[v].ops.forEach((op, i) => {
      if (op.op === 'normalize') return;
      let fired = 0;
      for (let n = 0; n < COUNT; n++) fired += slots(v, i, n)[0];
      const sigma = Math.sqrt(COUNT * op.p * (1 - op.p));
      assert.ok(Math.abs(fired - COUNT * op.p) <= 4.5 * sigma, `view ${v + 1} ${op.op}: fired ${fired}/${COUNT}, p = ${op.p}`);
    });
  }
});

test('crops lie inside the image, with areas and aspect ratios in range, covering it', () => {
  const op = view[0] as Extract<AugOp, { op: 'random_resized_crop' }>;
  const areas: number[] = [];
  const ratios: number[] = [];
  for (let n = 0; n < COUNT; n++) {
    const [, top, left, h, w] = slots(0, 0, n);
    assert.ok(top >= 0 && left >= 0 && top + h <= SIZE && left + w <= SIZE && h > 0 && w > 0, `crop ${[top, left, h, w]} outside ${SIZE}×${SIZE}`);
    // w and h are rounded from the drawn area and ratio: allow half a pixel either way.
    const areaLo = ((h - 0.5) * (w - 0.5)) / (SIZE * SIZE);
    const areaHi = ((h + 0.5) * (w + 0.5)) / (SIZE * SIZE);
    assert.ok(areaHi >= op.scale[0] && areaLo <= op.scale[1], `crop area ${[h, w]} outside scale ${op.scale}`);
    assert.ok((w + 0.5) / (h - 0.5) >= op.ratio[0] && (w - 0.5) / (h + 0.5) <= op.ratio[1], `crop ratio ${w}/${h} outside ${op.ratio}`);
    areas.push((h * w) / (SIZE * SIZE));
    ratios.push(w / h);
  }
  assert.ok(Math.min(...areas) < 0.25 && Math.max(...areas) > 0.9, `areas span ${Math.min(...areas)}…${Math.max(...areas)}`);
  assert.ok(Math.min(...ratios) < 0.8 && Math.max(...ratios) > 1.25, `ratios span ${Math.min(...ratios)}…${Math.max(...ratios)}`);
});

test('jitter factors stay in and cover their ranges; orders are permutations', () => {
  const jitter = view[3] as Extract<AugOp, { op: 'color_jitter' }>;
  const ranges = [
    [1 - jitter.brightness, 1 + jitter.brightness],
    [1 - jitter.contrast, 1 + jitter.contrast],
    [1 - jitter.saturation, 1 + jitter.saturation],
    [-jitter.hue, jitter.hue],
  ];
  const seen = ranges.map(() => [Infinity, -Infinity]);
  const contrastAt = new Set<number>();
  for (let n = 0; n < COUNT; n++) {
    const s = slots(0, 3, n);
    ranges.forEach(([lo, hi], k) => {
      const x = s[1 + k];
      assert.ok(x >= lo - 1e-6 && x <= hi + 1e-6, `factor ${k} = ${x} outside [${lo}, ${hi}]`);
      seen[k] = [Math.min(seen[k][0], x), Math.max(seen[k][1], x)];
    });
    const order = [...s.subarray(5, 9)];
    assert.equal([...order].sort(), [0, 1, 2, 3], `order ${order}`);
    contrastAt.add(order.indexOf(1));
  }
  ranges.forEach(([lo, hi], k) => {
    const slack = 0.03 * (hi - lo);
    assert.ok(seen[k][0] < lo + slack && seen[k][1] > hi - slack, `factor ${k} covers only ${seen[k]} of [${lo}, ${hi}]`);
  });
  assert.is(contrastAt.size, 4, 'contrast appears at every position of the order');
});

test('rotation angles and blur sigmas stay in and cover their ranges', () => {
  const angles = Array.from({ length: COUNT }, (_, n) => slots(0, 2, n)[1]);
  const sigmas = Array.from({ length: COUNT }, (_, n) => slots(0, 5, n)[1]);
  assert.ok(Math.min(...angles) >= -30 && Math.max(...angles) <= 30 && Math.min(...angles) < -29 && Math.max(...angles) > 29, `angles ${Math.min(...angles)}…${Math.max(...angles)}`);
  assert.ok(Math.min(...sigmas) >= 0.1 && Math.max(...sigmas) <= 2 && Math.min(...sigmas) < 0.15 && Math.max(...sigmas) > 1.95, `sigmas ${Math.min(...sigmas)}…${Math.max(...sigmas)}`);
});

test('every view is written, and the two views of an image differ', () => {
  const plane = SIZE * SIZE;
  for (const v of drawn.views) assert.ok(v.every(Number.isFinite), 'a view has unwritten or non-finite pixels');
  for (let n = 0; n < COUNT; n++) {
    let diff = 0;
    for (let i = 0; i < plane; i++) diff = Math.max(diff, Math.abs(drawn.views[0][n * plane + i] - drawn.views[1][n * plane + i]));
    assert.ok(diff > 1e-3, `image ${n}: its two views are equal`);
  }
});

test('the same seed and step reproduce the views exactly; another seed or step does not', async () => {
  const again = await runDrawn(plan, source, COUNT, 7, 3);
  assert.ok(
    again.views.every((v, k) => v.every((x, i) => x === drawn.views[k][i])),
    'same seed, different views',
  );
  for (const [seed, step] of [[8, 3], [7, 4]]) {
    const other = await runDrawn(plan, source, COUNT, seed, step);
    let same = 0;
    for (let i = 0; i < other.views[0].length; i++) same += other.views[0][i] === drawn.views[0][i] ? 1 : 0;
    // Background pixels stay 0 under any crop; the digits' pixels must move.
    assert.ok(same < 0.9 * other.views[0].length, `seed ${seed} step ${step}: ${same} of ${other.views[0].length} pixels unchanged`);
    assert.not.equal([...other.records.subarray(0, 64)], [...drawn.records.subarray(0, 64)]);
  }
});

test.run();
