// A step too large for the adapter used to reach Dawn and come back as pages of validation text;
// the planned buffers are checked first, and the error names the field and the largest value that fits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, type TrainingSpec } from '../../src/compiler/compile.js';
import { checkStepFits } from '../../src/compiler/limits.js';
import { optimizerFor } from '../../src/ir/optimizer.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { CodedError, loadSpecFile } from '../../src/spec/index.js';

const loaded = loadSpecFile('test/fixtures/tiny-run.simclr');
const base = loaded.spec!;
const at = (batch: number, size = base.augment.size): TrainingSpec => ({ ...base, augment: { ...base.augment, size }, train: { ...base.train, batch_size: batch }, optimizer: optimizerFor(base.optimizer, batch) });
const largestBuffer = (spec: TrainingSpec) => Math.max(...compile(spec, { target: SOFTWARE_TARGET }).kernels.buffers.filter((b) => b.kind !== 'step').map((b) => b.bytes));

function failure(spec: TrainingSpec, limit: number): CodedError {
  try {
    checkStepFits(spec, compile(spec, { target: SOFTWARE_TARGET }).kernels, { maxStorageBufferBindingSize: limit, maxBufferSize: 2 * limit }, SOFTWARE_TARGET);
  } catch (err) {
    assert.instance(err, CodedError);
    return err as CodedError;
  }
  return assert.unreachable('should throw') as never;
}

test('a batch too large for the adapter names train.batch_size and the largest batch that fits', () => {
  const limit = largestBuffer(at(40)) + 1;
  const err = failure(at(64), limit);
  assert.is(err.code, 'E0404');
  const fitting = Number(/the largest batch that fits is (\d+)/.exec(err.message)?.[1]);
  assert.match(err.message, /^train\.batch_size: error E0404: the step at batch 64 needs a buffer of .* \(maxStorageBufferBindingSize\)/);
  assert.ok(largestBuffer(at(fitting)) <= limit, `batch ${fitting} fits`);
  assert.ok(largestBuffer(at(fitting + 1)) > limit, `batch ${fitting + 1} does not`);
});

test('views too large even at batch 1 name augment.size and the largest side that fits', () => {
  const limit = largestBuffer(at(1, 10));
  const err = failure(at(16), limit);
  assert.match(err.message, /^augment\.size: error E0404: .*even at batch 1 with 12×12 views; the largest view side that fits at batch 1 is 10/);
});

test('a step within the limits passes', () => {
  const spec = at(16);
  checkStepFits(spec, compile(spec, { target: SOFTWARE_TARGET }).kernels, { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 }, SOFTWARE_TARGET);
});

test.run();
