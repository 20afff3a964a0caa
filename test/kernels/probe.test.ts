// The roof probes compute what their references say, so their timings time real work.
import { test } from 'uvu';
import { checkOp } from '../helpers/check-op.js';

test('fma_probe and copy_probe match their float64 references', async () => {
  await checkOp('fma_probe', [[2]], { threads: 130, steps: 37 }, { inputs: [Float64Array.of(0.999, 0.001)], tol: 1e-5 });
  await checkOp('copy_probe', [[4 * 1031]], {});
});

test.run();
