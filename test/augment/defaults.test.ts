// The blur's default kernel is one rule wherever a pipeline is made: the spec's resolved default and
// the built-in default pipeline (benches, sources without a spec) agree at every size, and follow
// SimCLR's int(0.1·size) made odd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blurKernel, defaultView } from '../../src/augment/index.js';
import { loadSpecText } from '../../src/spec/index.js';

const SIZES = [8, 28, 32, 36, 64, 95, 96, 100, 224];

function resolvedKernel(size: number): number {
  const loaded = loadSpecText(`name: "blur"\ndata { source: synthetic, image_size: ${size} }\naugment { size: ${size}, ops: [blur, normalize] }\n`, 'blur.simclr');
  if (!loaded.spec) throw new Error(JSON.stringify(loaded.diagnostics));
  const blur = loaded.spec.augment.views[0].find((op) => op.op === 'blur');
  if (blur?.op !== 'blur') throw new Error('no blur op resolved');
  return blur.kernel;
}

test('the spec default and the default pipeline give the same blur kernel at every size', () => {
  for (const size of SIZES) {
    const pipeline = defaultView(size, [0.5], [0.25]).find((op) => op.op === 'blur');
    assert.is(resolvedKernel(size), pipeline?.op === 'blur' ? pipeline.kernel : NaN, `size ${size}`);
  }
});

test('the blur kernel is int(0.1·size) made odd, at least 3', () => {
  assert.equal(
    SIZES.map((size) => blurKernel(size)),
    [3, 3, 3, 3, 7, 9, 9, 11, 23],
  );
});

test.run();
