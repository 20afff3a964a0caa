import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp, type Attrs } from '../../src/kernels/index.js';
import { EMPTY_ITEM, EMPTY_SIM } from '../../src/kernels/knn.js';
import { checkOp, runOnGpu } from '../helpers/check-op.js';
import { randoms } from '../helpers/numeric.js';

test('knn_similarity matches its reference (odd query count and dimension)', async () => {
  await checkOp('knn_similarity', [[37, 13], [13, 52]]);
  await checkOp('knn_similarity', [[5, 64], [64, 1028]]);
});

/** Each row's (sim, item) pairs in descending order: the op's contract is the set, not the layout. */
function sortedRows(sims: ArrayLike<number>, items: ArrayLike<number>, k: number): number[][][] {
  const out: number[][][] = [];
  for (let r = 0; r < sims.length / k; r++) {
    const row = Array.from({ length: k }, (_, i) => [sims[r * k + i], items[r * k + i]]);
    out.push(row.sort((a, b) => b[0] - a[0] || a[1] - b[1]));
  }
  return out;
}

/** Two bank chunks (the second partial) merged into state rows 3…15 of 20 (16…19 untouched), on the device and in the reference. */
async function topkTwoChunks(attrs: Attrs): Promise<void> {
  const [q, n, t, k] = [13, 40, 20, 7];
  const op = getOp('knn_topk');
  const shapes = [[q, n], [4], [t, k], [t, k]];
  let want: Float64Array[] = [new Float64Array(t * k).fill(EMPTY_SIM), new Float64Array(t * k).fill(EMPTY_ITEM)];
  let got: ArrayLike<number>[] = want;
  for (const [chunk, window] of [[0, [0, 40, 3, 13]], [1, [38, 37, 3, 12]]] as const) {
    const inputs = [randoms(q * n, 10 + chunk), Float64Array.from(window)];
    want = op.reference([...inputs, ...want], shapes, attrs);
    got = await runOnGpu('knn_topk', [...inputs, Float64Array.from(got[0]), Float64Array.from(got[1])], shapes, attrs);
  }
  // The reference keeps float64 similarities; the device stores them as f32.
  const round = (rows: number[][][]) => rows.map((row) => row.map(([s, i]) => [Math.fround(s), i]));
  assert.equal(sortedRows(got[0], got[1], k), round(sortedRows(want[0], want[1], k)));
  assert.ok(want[1].subarray(16 * k).every((v) => v === EMPTY_ITEM), 'rows outside the window stay empty');
}

test('knn_topk keeps the k best over chunks as its reference does', () => topkTwoChunks({}));
test('knn_topk with exclude_self skips the item of the row itself', () => topkTwoChunks({ exclude_self: true }));

test('knn_vote matches its reference, empty slots and T = 0.001 included', async () => {
  const [t, k, classes] = [30, 9, 6];
  const items = Float64Array.from({ length: t * k }, (_, i) => (i % 11 === 3 ? EMPTY_ITEM : (i * 13) % 50));
  const labels = Float64Array.from({ length: 50 }, (_, i) => (i * 5) % classes);
  const shapes = [[t, k], [t, k], [50], [4]];
  for (const temperature of [0.1, 0.001]) {
    await checkOp('knn_vote', shapes, { classes, temperature, rows: 17 }, { inputs: [randoms(t * k, 3), items, labels, Float64Array.of(0, 50, 12, 15)] });
  }
});

test('knn_vote: a small temperature shifts by the best similarity instead of overflowing', () => {
  // Cosines 0.9 (class 1), 0.899 and 0.898 (class 0): at T = 0.001 the weights are 1, e⁻¹, e⁻² → class 1.
  // Unshifted, each weight would be e⁹⁰⁰ = ∞ and the tie would give class 0.
  const [prediction] = getOp('knn_vote').reference(
    [Float64Array.of(0.899, 0.9, 0.898), Float64Array.of(0, 1, 2), Float64Array.of(0, 1, 0), Float64Array.of(0, 3, 0, 1)],
    [[1, 3], [1, 3], [3], [4]],
    { classes: 2, temperature: 0.001, rows: 1 },
  );
  assert.equal(Array.from(prediction), [1]);
});

test.run();
