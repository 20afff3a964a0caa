import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp, STEP_DEFAULTS, type StepScalars } from '../../src/kernels/index.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { checkOp, runOnGpu } from '../helpers/check-op.js';
import { golden } from '../helpers/golden.js';
import { assertClose, randoms, relError } from '../helpers/numeric.js';

const positive = (n: number, seed: number) => randoms(n, seed, 0, 1);

test('sgd_update matches its reference, with and without exclusion', async () => {
  const attrs = { momentum: 0.9, weight_decay: 0.01 };
  const step = { ...STEP_DEFAULTS, lr: 0.1 };
  await checkOp('sgd_update', [[37, 3], [37, 3], [37, 3]], attrs, { step });
  await checkOp('sgd_update', [[1001], [1001], [1001]], { ...attrs, exclude: true }, { step });
});

test('adamw_update matches its reference at step 1 and step 7', async () => {
  const shapes = [[5, 41], [5, 41], [5, 41], [5, 41]];
  for (const step of [1, 7]) {
    const attrs = { betas: [0.9, 0.999] as [number, number], eps: 1e-8, weight_decay: 0.05 };
    const scalars = stepScalars({ type: 'adamw', betas: attrs.betas }, step, 0.01);
    await checkOp('adamw_update', shapes, attrs, { inputs: [undefined, undefined, undefined, positive(205, step)], tol: 2e-5, step: scalars });
  }
});

test('lars_update matches its reference: trust ratio over a tensor larger than one workgroup pass, and excluded', async () => {
  const attrs = { momentum: 0.9, weight_decay: 1e-4, eeta: 0.001 };
  const step = { ...STEP_DEFAULTS, lr: 0.3 };
  await checkOp('lars_update', [[1234], [1234], [1234]], attrs, { step });
  await checkOp('lars_update', [[7], [7], [7]], { ...attrs, exclude: true }, { step });
});

// The golden LARS decay (1e-6) moves a float32 step by 1.6e-8, under any float32 tolerance; here
// decay is large against small gradients, so the update without it (a kernel that drops or
// misapplies wd) is far from the reference with it, and the kernel must sit close to the latter.
test('lars_update applies weight decay: its update is the decayed reference’s, not the undecayed one’s', async () => {
  const n = 300;
  const w = randoms(n, 11);
  const g = randoms(n, 12, -0.01, 0.01);
  const attrs = { momentum: 0.9, weight_decay: 0.01, eeta: 0.001 };
  const step = { ...STEP_DEFAULTS, lr: 0.5 };
  const update = (after: ArrayLike<number>) => Array.from(after, (x, i) => x - w[i]);
  const ref = (wd: number) => update(getOp('lars_update').reference([w, g, new Float64Array(n)], [[n], [n], [n]], { ...attrs, weight_decay: wd }, step)[0]);
  const [got] = await runOnGpu('lars_update', [w, g, new Float64Array(n)], [[n], [n], [n]], attrs, {}, step);
  const toDecayed = relError(update(got), ref(attrs.weight_decay));
  const toUndecayed = relError(update(got), ref(0));
  assert.ok(toDecayed < 1e-3, `update vs the decayed reference: ${toDecayed.toExponential(2)}`);
  assert.ok(toUndecayed > 100 * Math.max(toDecayed, 1e-3), `update vs the undecayed reference: ${toUndecayed.toExponential(2)}`);
});

test('lars_update uses trust 1 where the parameter is all zeros', async () => {
  const attrs = { momentum: 0.9, weight_decay: 0, eeta: 0.001 };
  const g = randoms(9, 4);
  const [w] = await runOnGpu('lars_update', [new Float64Array(9), g, new Float64Array(9)], [[9], [9], [9]], attrs, {}, { ...STEP_DEFAULTS, lr: 0.5 });
  assertClose(w, g.map((x) => -0.5 * x), 1e-6, 'w after one step from zero');
});

test('optimizer updates write into the parameter and state buffers', () => {
  assert.equal(getOp('sgd_update').inplace, { 0: 0, 1: 2 });
  assert.equal(getOp('adamw_update').inplace, { 0: 0, 1: 2, 2: 3 });
  assert.equal(getOp('lars_update').inplace, { 0: 0, 1: 2 });
});

interface Step {
  architecture: string[];
  params: Record<string, number[]>;
  grads: Record<string, number[]>;
  sgd: { lr: number; momentum: number; weight_decay: number; params_after: Record<string, number[]> };
  adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number; params_after: Record<string, number[]> };
  lars: { lr: number; momentum: number; weight_decay: number; eeta: number; params_after: Record<string, number[]> };
}

const step = golden<Step>('e2e-step.json');

/**
 * BatchNorm modules as the file's `architecture` names them: "encoder.stem_bn: batchnorm2d(…)",
 * "head.1: batchnorm1d(…)", and bnK(…) inside a block's formula; encoder → 0., head → 1.
 */
function batchNormModules(architecture: string[]): Set<string> {
  const modules = new Set<string>();
  for (const line of architecture) {
    const m = /^(encoder|head)\.([\w.]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const prefix = `${m[1] === 'encoder' ? 0 : 1}.${m[2]}`;
    if (/^batchnorm/.test(m[3])) modules.add(prefix);
    for (const inner of m[3].matchAll(/\b(bn\d*)\(/g)) modules.add(`${prefix}.${inner[1]}`);
  }
  return modules;
}

const bn = batchNormModules(step.architecture);
const excluded = (name: string) => name.endsWith('bias') || bn.has(name.slice(0, name.lastIndexOf('.')));

test('e2e-step.json: BatchNorm parameters and biases are found from the architecture', () => {
  const names = Object.keys(step.grads).filter(excluded).sort();
  assert.ok(names.includes('0.stem_bn.weight') && names.includes('0.block.bn1.weight') && names.includes('1.1.weight') && names.includes('1.6.bias'), names.join(' '));
  assert.not.ok(excluded('1.0.weight') || excluded('0.block.conv1.weight') || excluded('1.6.weight'));
});

/** Applies one update op to every parameter of the golden step and compares to params_after. */
async function goldenStep(op: string, after: Record<string, number[]>, attrsOf: (name: string) => Record<string, unknown>, states: number, scalars: StepScalars): Promise<void> {
  for (const name of Object.keys(step.grads)) {
    const w = Float64Array.from(step.params[name]);
    const g = Float64Array.from(step.grads[name]);
    const zeros = Array.from({ length: states }, () => new Float64Array(w.length));
    const shape = [w.length];
    const [got] = await runOnGpu(op, [w, g, ...zeros], Array(2 + states).fill(shape), attrsOf(name), {}, scalars);
    assertClose(got, after[name], 1e-4, `${op} ${name}`);
  }
}

test('sgd_update reproduces PyTorch SGD on e2e-step.json (decay on every parameter)', async () => {
  const { lr, momentum, weight_decay, params_after } = step.sgd;
  await goldenStep('sgd_update', params_after, () => ({ momentum, weight_decay }), 1, stepScalars({ type: 'sgd', betas: [0, 0] }, 1, lr));
});

test('adamw_update reproduces PyTorch AdamW on e2e-step.json (decay on every parameter)', async () => {
  const { lr, betas, eps, weight_decay, params_after } = step.adamw;
  await goldenStep('adamw_update', params_after, () => ({ betas, eps, weight_decay }), 2, stepScalars({ type: 'adamw', betas }, 1, lr));
});

test('lars_update reproduces SimCLR LARS on e2e-step.json (BatchNorm and biases excluded)', async () => {
  const { lr, momentum, weight_decay, eeta, params_after } = step.lars;
  await goldenStep('lars_update', params_after, (name) => ({ momentum, weight_decay, eeta, exclude: excluded(name) }), 1, stepScalars({ type: 'lars', betas: [0, 0] }, 1, lr));
});

test.run();
