import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cases, kernelsSuite } from '../../src/bench/kernels.js';
import { getOp } from '../../src/kernels/index.js';

test('bench kernels --quick: a forward and a backward row per quick case, in the documented shape', async () => {
  const rows: Record<string, unknown>[] = [];
  await kernelsSuite.run({ repeats: 1, quick: true }, (row) => rows.push(row));
  const quick = cases.filter((c) => c.quick);
  assert.is(rows.length, 2 * quick.length);
  rows.forEach((row, k) => {
    const c = quick[k >> 1];
    assert.is(row.bench, 'kernels');
    assert.is(row.op, c.op);
    assert.is(row.pass, k % 2 ? 'backward' : 'forward');
    assert.equal(row.shape, c.shapes);
    assert.ok(typeof row.median_ms === 'number' && row.median_ms > 0, `median_ms ${row.median_ms}`);
    // GFLOP/s is the op's own FLOP count over the median time.
    if (k % 2 === 0) {
      const flops = getOp(c.op).flops!(c.shapes, c.attrs ?? {});
      assert.ok(Math.abs((row.gflops as number) - flops / ((row.median_ms as number) * 1e6)) < 1e-3 + 1e-3 * (row.gflops as number), `gflops ${row.gflops}`);
    } else {
      assert.ok((row.gflops as number) > 0, `gflops ${row.gflops}`);
    }
  });
});

test.run();
