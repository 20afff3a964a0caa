import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linearProbe, predictOnDevice, probeLossAndGrad, probePredict, trainProbe, trainProbeOnDevice } from '../../src/eval/linear-probe.js';
import { runtime } from '../../src/gpu/runtime.js';
import type { Features } from '../../src/eval/knn.js';
import { assertClose, randoms } from '../helpers/numeric.js';

/** Float64 loss written out directly from the definition, for finite differences. */
function lossF64(w: Float64Array, b: Float64Array, x: Float32Array, labels: Int32Array, dim: number, lambda: number): number {
  const classes = b.length;
  const count = labels.length;
  let total = 0;
  for (let n = 0; n < count; n++) {
    const z = Array.from({ length: classes }, (_, c) => b[c] + Array.from({ length: dim }, (_, j) => w[c * dim + j] * x[n * dim + j]).reduce((a, v) => a + v, 0));
    const logSum = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    total += logSum - z[labels[n]];
  }
  return total / count + (lambda / 2) * w.reduce((a, v) => a + v * v, 0);
}

test('loss and gradient match a float64 loss and its central differences', () => {
  const [count, dim, classes, lambda] = [7, 5, 4, 0.03];
  const x = Float32Array.from(randoms(count * dim, 1, -2, 2));
  const labels = Int32Array.from({ length: count }, (_, i) => (i * 3) % classes);
  const w = Float32Array.from(randoms(classes * dim, 2, -0.5, 0.5));
  const b = Float32Array.from(randoms(classes, 3, -0.5, 0.5));
  const rows = Array.from({ length: count }, (_, i) => i);
  const got = probeLossAndGrad(w, b, x, labels, rows, dim, lambda);
  const w64 = Float64Array.from(w);
  const b64 = Float64Array.from(b);
  assert.ok(Math.abs(got.loss - lossF64(w64, b64, x, labels, dim, lambda)) < 1e-6, 'loss');
  const h = 1e-5;
  const central = (param: Float64Array, i: number) => {
    const keep = param[i];
    param[i] = keep + h;
    const up = lossF64(w64, b64, x, labels, dim, lambda);
    param[i] = keep - h;
    const down = lossF64(w64, b64, x, labels, dim, lambda);
    param[i] = keep;
    return (up - down) / (2 * h);
  };
  for (let i = 0; i < w64.length; i++) assert.ok(Math.abs(got.gradWeights[i] - central(w64, i)) < 1e-5, `∂W[${i}]: ${got.gradWeights[i]} vs ${central(w64, i)}`);
  for (let c = 0; c < classes; c++) assert.ok(Math.abs(got.gradBias[c] - central(b64, c)) < 1e-5, `∂b[${c}]`);
});

/** Three classes split by two hyperplanes with a margin, plus irrelevant dimensions. */
function separable(count: number, seed: number): Features {
  const dim = 6;
  const raw = randoms(count * dim, seed, -1, 1);
  const data = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 3;
    labels[n] = label;
    for (let j = 0; j < dim; j++) data[n * dim + j] = raw[n * dim + j];
    // Class sets the first coordinate to one of three bands: [-3,-1.5], [-0.5,0.5], [1.5,3] (scaled by 5 on another axis).
    data[n * dim] = (label - 1) * 2.25 + raw[n * dim] * 0.5;
    data[n * dim + 3] *= 5;
  }
  return { data, count, dim, labels };
}

test('the device trainer follows the CPU trainer step for step (partial last batch included)', async () => {
  const train = separable(300, 5);
  const opts = { classes: 3, epochs: 3, lr: 0.2, batchSize: 64, weightDecay: 0.01, seed: 4 };
  const cpu = trainProbe(train, opts);
  const gpu = await trainProbeOnDevice(await runtime(), train, opts);
  assertClose(gpu.probe.weights, cpu.probe.weights, 1e-4, 'weights');
  assertClose(gpu.probe.bias, cpu.probe.bias, 1e-4, 'bias');
  assertClose(gpu.losses, cpu.losses, 1e-5, 'epoch losses');
  assert.ok(cpu.losses[2] < cpu.losses[0], 'the loss falls');
});

test('device predictions (compiled probe_logits, batches padded) equal the float64 CPU prediction', async () => {
  const train = separable(300, 7);
  const { probe } = trainProbe(train, { classes: 3, epochs: 2, lr: 0.05, batchSize: 32 });
  // Rows the probe is unsure of: noisy copies of the training points, 1031 of them (a partial batch).
  const noisy = separable(1031, 8);
  noisy.data.forEach((v, i) => (noisy.data[i] = v * 0.3));
  const want = probePredict(probe, noisy);
  const got = await predictOnDevice(await runtime(), probe, noisy);
  assert.ok(new Set(want).size === 3, 'every class is predicted somewhere');
  const differ = got.filter((p, i) => p !== want[i]).length;
  assert.ok(differ <= 2, `${differ} predictions differ: more than float32 near-ties explain`);
});

test('separable data: the probe classifies every held-out point and the loss falls', async () => {
  const result = await linearProbe(await runtime(), separable(600, 11), separable(300, 12), { classes: 3, epochs: 30, lr: 0.5, batchSize: 64, weightDecay: 0 });
  assert.is(result.top1, 1);
  assert.ok(result.losses[result.losses.length - 1] < result.losses[0] / 4, `losses ${result.losses[0]} → ${result.losses.at(-1)}`);
});

test('labels unrelated to the features stay near chance on held-out data', async () => {
  const train = separable(600, 21);
  const heldOut = separable(300, 22);
  const shuffled = (f: Features): Features => ({ ...f, labels: Int32Array.from(f.labels, (_, i) => (i * 7 + Math.floor(i / 3)) % 3) });
  const result = await linearProbe(await runtime(), shuffled(train), shuffled(heldOut), { classes: 3, epochs: 10, lr: 0.1 });
  assert.ok(result.top1 < 0.5, `accuracy ${result.top1} on unlearnable labels`);
});

test.run();
