// The trainer's side of f16 loss scaling: skipped steps counted from the scale the device keeps,
// a collapsing scale stopped with E0702, and an adapter without shader-f16 refused with E0701.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StepExecutor } from '../../src/gpu/executor.js';
import { LOSS_SCALE_NAMES } from '../../src/ir/loss-scale.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { CodedError } from '../../src/spec/index.js';
import { checkPrecision, LossScaleWatch, lossScalePanel, MIN_LOSS_SCALE, precisionProblem } from '../../src/train/loss-scale.js';

/** An executor whose loss scale is whatever the test says next. */
function fakeExecutor(scales: number[]): StepExecutor {
  let k = 0;
  return {
    graph: { outputs: { [LOSS_SCALE_NAMES.scale]: { buffer: 0, shape: [1] } } },
    read: async () => Float32Array.of(scales[Math.min(k++, scales.length - 1)]),
  } as unknown as StepExecutor;
}

test('skipped steps are the steps the scale went down; logged counts reset per line', async () => {
  const watch = (await LossScaleWatch.attach(fakeExecutor([2 ** 16, 2 ** 15, 2 ** 15, 2 ** 14, 2 ** 15])))!;
  assert.equal([await watch.afterStep(1), await watch.afterStep(2), await watch.afterStep(3)], [true, false, true]);
  assert.equal(watch.logged(), { loss_scale: 2 ** 14, skipped_steps: 2 });
  assert.is(await watch.afterStep(4), false, 'growth is no skip');
  assert.equal(watch.logged(), { loss_scale: 2 ** 15, skipped_steps: 0 });
  const panel = lossScalePanel([{ step: 0, loss_scale: 2 ** 14, skipped_steps: 2 }, { step: 1, loss_scale: 2 ** 15, skipped_steps: 1 }]);
  assert.equal(panel[0].series.map((s) => s.points), [[[1, 14], [2, 15]], [[1, 2], [2, 3]]]);
  assert.equal(lossScalePanel([{ step: 0, loss: 1 }]), [], 'no panel for f32 runs');
});

test('an f32 step has no watch; a scale collapsing below 2^-20 stops with E0702', async () => {
  assert.is(await LossScaleWatch.attach({ graph: { outputs: {} } } as unknown as StepExecutor), undefined);
  const watch = (await LossScaleWatch.attach(fakeExecutor([MIN_LOSS_SCALE, MIN_LOSS_SCALE / 2])))!;
  try {
    await watch.afterStep(37);
    assert.unreachable('a collapsed scale must stop the run');
  } catch (err) {
    assert.instance(err, CodedError);
    assert.is((err as CodedError).code, 'E0702');
    assert.match((err as Error).message, /step 37.*precision: f32/);
  }
});

test('f16 on an adapter without shader-f16: E0701 naming precision: f32', () => {
  assert.is(precisionProblem('f32', SOFTWARE_TARGET), undefined);
  assert.is(precisionProblem('f16', { ...SOFTWARE_TARGET, hasF16: true }), undefined);
  assert.throws(() => checkPrecision('f16', { ...SOFTWARE_TARGET, hasF16: false }), (err: Error) => err instanceof CodedError && err.code === 'E0701' && /precision: f32/.test(err.message));
});

test.run();
