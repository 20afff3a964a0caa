import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { roundHalf } from '../../src/kernels/cast.js';
import { runtime } from '../../src/gpu/runtime.js';
import { compileOp } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { randoms } from '../helpers/numeric.js';

test('roundHalf: ties to even, subnormals, overflow to ∞', () => {
  assert.is(roundHalf(1 + 2 ** -11), 1, 'tie rounds to the even 1');
  assert.is(roundHalf(1 + 3 * 2 ** -11), 1 + 2 ** -9, 'tie rounds to the even neighbour above');
  assert.is(roundHalf(2 ** -25), 0, 'half the smallest subnormal ties to 0');
  assert.is(roundHalf(3 * 2 ** -25), 2 ** -23, 'subnormal tie to even');
  assert.is(roundHalf(65504), 65504);
  assert.is(roundHalf(65519), 65504, 'below the halfway point to 2^16');
  assert.is(roundHalf(65520), Infinity, 'the halfway point overflows');
  assert.is(roundHalf(-1e6), -Infinity);
});

// f32 → f16 → f32 on the GPU against roundHalf in float64: exact (0 tolerance: both are IEEE
// round-to-nearest of the same f32 inputs), on odd lengths so the last packed word holds one half.
test('GPU cast f32 → f16 → f32 equals float64 rounding exactly, odd lengths, overflow and NaN kept', async () => {
  const rt = await runtime();
  for (const n of [1, 7, 1001]) {
    const x = Float32Array.from(randoms(n, n, -70000, 70000));
    x[0] = n === 1 ? 3e-6 : x[0];
    if (n > 1) x[1] = NaN;
    const down = compileOp('cast', [[n]], { to: 'f16' }, rt.target);
    const up = compileOp('cast', [[n]], { to: 'f32' }, rt.target, ['f16']);
    const a = await StepExecutor.create(rt, down, { initial: { 'in:0': x } });
    const b = await StepExecutor.create(rt, up, { bind: { 'in:0': a.buffer('out:0') }, initial: { 'out:0': new Float32Array(n).fill(-1) } });
    a.record();
    b.record();
    const got = await b.read('out:0');
    a.destroy();
    b.destroy();
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(x[i])) assert.ok(Number.isNaN(got[i]), `NaN at ${i}`);
      else assert.is(got[i], roundHalf(x[i]), `n=${n} element ${i}: ${x[i]}`);
    }
  }
});

test.run();
