import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runtime } from '../../src/gpu/runtime.js';
import { knnClassify, knnReference, l2Normalize, type Features } from '../../src/eval/knn.js';
import { randoms } from '../helpers/numeric.js';

test('reference on a hand-worked example: the temperature decides the vote', () => {
  const train: Features = { data: Float32Array.from([1, 0, 0.9, 0.1, 0, 1, -1, 0]), count: 4, dim: 2, labels: Int32Array.from([0, 0, 1, 2]) };
  const query: Features = { data: Float32Array.from([0.6, 0.8]), count: 1, dim: 2, labels: Int32Array.from([1]) };
  // Cosines: 0.6, 0.62/‖(0.9, 0.1)‖ = 0.6847, 0.8, −0.6; the top 3 are items 2, 1, 0.
  // T = 0.1: class 1 gets e^8 = 2981, class 0 e^6.847 + e^6 = 1345 → 1.
  assert.is(knnReference(train, query, { k: 3, temperature: 0.1, classes: 3 }).predictions[0], 1);
  // T = 1: class 1 gets e^0.8 = 2.23, class 0 e^0.6847 + e^0.6 = 3.80 → 0.
  assert.is(knnReference(train, query, { k: 3, temperature: 1, classes: 3 }).predictions[0], 0);
  // k = 1: only the nearest votes.
  assert.is(knnReference(train, query, { k: 1, temperature: 1, classes: 3 }).top1, 1);
});

/** Noisy clusters: hard enough that kNN is neither always right nor at chance. */
function clusters(count: number, dim: number, classes: number, seed: number): Features {
  const centres = randoms(classes * dim, 99, -1, 1);
  const noise = randoms(count * dim, seed, -1.6, 1.6);
  const data = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = (n * 7 + seed) % classes;
    for (let j = 0; j < dim; j++) data[n * dim + j] = centres[labels[n] * dim + j] + noise[n * dim + j];
  }
  return { data, count, dim, labels };
}

test('device kNN equals the float64 reference, across bank and query chunks', async () => {
  const rt = await runtime();
  const train = clusters(598, 24, 5, 1);
  const query = clusters(150, 24, 5, 2);
  const opts = { k: 20, temperature: 0.1, classes: 5 };
  const want = knnReference(train, query, opts);
  assert.ok(want.top1 > 0.3 && want.top1 < 0.98, `reference accuracy ${want.top1} should be informative`);
  const whole = await knnClassify(rt, train, query, opts);
  const chunked = await knnClassify(rt, train, query, { ...opts, bankItems: 200, queryRows: 40 });
  for (const got of [whole, chunked]) {
    const differ = got.predictions.filter((p, i) => p !== want.predictions[i]).length;
    assert.ok(differ <= 1, `${differ} of 150 predictions differ from the reference`);
    assert.ok(Math.abs(got.top1 - want.top1) <= 1 / 150 + 1e-12, `top1 ${got.top1} vs ${want.top1}`);
  }
});

test('T = 0.001: the vote is finite and decided by the weights, on the device and in the reference', async () => {
  // Cosines to the query 0.9 (class 1), 0.899 and 0.898 (class 0): weights 1, e⁻¹, e⁻² → class 1.
  // Unshifted, each would be e⁹⁰⁰ = ∞ and the tie would go to class 0.
  const angle = (c: number) => [c, Math.sqrt(1 - c * c)];
  const train: Features = { data: Float32Array.from([0.899, 0.9, 0.898].flatMap(angle)), count: 3, dim: 2, labels: Int32Array.from([0, 1, 0]) };
  const query: Features = { data: Float32Array.from([1, 0]), count: 1, dim: 2, labels: Int32Array.from([1]) };
  const opts = { k: 3, temperature: 0.001, classes: 2 };
  assert.is(knnReference(train, query, opts).top1, 1);
  assert.is((await knnClassify(await runtime(), train, query, opts)).top1, 1);
});

test('bank and queries the same noise (eval_split: train): excluding each item from its own neighbours gives chance', async () => {
  const count = 400;
  const noise: Features = { data: Float32Array.from(randoms(count * 16, 8)), count, dim: 16, labels: Int32Array.from({ length: count }, (_, i) => (i * 7 + (i >> 3)) % 4) };
  const opts = { k: 10, temperature: 0.1, classes: 4 };
  const rt = await runtime();
  // With itself as its nearest neighbour (cosine 1) every item votes for its own label.
  assert.is((await knnClassify(rt, noise, noise, opts)).top1, 1);
  const excluded = await knnClassify(rt, noise, noise, { ...opts, excludeSelf: true, bankItems: 148, queryRows: 90 });
  const want = knnReference(noise, noise, { ...opts, excludeSelf: true });
  assert.ok(Math.abs(excluded.top1 - 0.25) < 0.08, `accuracy ${excluded.top1} on noise, chance 0.25`);
  assert.ok(excluded.predictions.filter((p, i) => p !== want.predictions[i]).length <= 1, 'device and reference agree');
});

test('k larger than the training set is an error; zero rows normalise to zero', () => {
  const f: Features = { data: Float32Array.from([3, 4, 0, 0]), count: 2, dim: 2, labels: Int32Array.from([0, 1]) };
  assert.throws(() => knnReference(f, f, { k: 3, temperature: 0.1, classes: 2 }), /k must be between 1 and the 2 training items/);
  assert.equal(Array.from(l2Normalize(f.data, 2, 2)), [0.6000000238418579, 0.800000011920929, 0, 0]);
});

test.run();
