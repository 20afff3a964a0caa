// The golden end-to-end case (test/golden/e2e-step.json) as a spec, resolved by the spec front end,
// plus the mapping from PyTorch's state_dict names to the graph's parameter names.
import type { TrainingSpec } from '../../src/compiler/compile.js';
import { optimizerFor, type OptimizerSpec } from '../../src/ir/optimizer.js';
import { formatDiagnostic, loadSpecText } from '../../src/spec/index.js';
import { golden } from '../helpers/golden.js';
import { assertClose } from '../helpers/numeric.js';

export interface E2eCase {
  n: number;
  channels: number;
  size: number;
  temperature: number;
  x1: number[];
  x2: number[];
  params: Record<string, number[]>;
  z: number[];
  loss: number;
  grads: Record<string, number[]>;
  bn_running_after_forward: Record<string, number[]>;
  sgd: { lr: number; momentum: number; weight_decay: number; params_after: Record<string, number[]> };
  adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number; params_after: Record<string, number[]> };
  lars: { lr: number; momentum: number; weight_decay: number; eeta: number; params_after: Record<string, number[]> };
}

export const e2e = (): E2eCase => golden<E2eCase>('e2e-step.json');

/** The golden architecture as a `.simclr` spec; N, channels, size and temperature from the file. */
export function e2eSpecText(c: E2eCase): string {
  return `name: "e2e-step"
data { source: synthetic, image_size: ${c.size}, channels: ${c.channels} }
encoder {
  pool: cat_avg_max
  layers: [
    conv { out: 8, kernel: 3, stride: 1, padding: 1, bias: false }, batchnorm, relu,
    residual {
      body: [conv { out: 8 }, batchnorm, relu, conv { out: 8 }, batchnorm]
    },
    conv { out: 16, kernel: 3, stride: 2, padding: 1 }, batchnorm, relu,
  ]
}
projector { hidden: 32, out: 16, layers: 3, batchnorm: true }
loss { temperature: ${c.temperature} }
train { batch_size: ${c.n} }
`;
}

/**
 * The golden architecture built by the spec front end, with the optimizer under test: the fields it
 * gives over the resolved spec's (the schema's defaults, learning rate unscaled).
 */
export function e2eSpec(c: E2eCase, optimizer: Partial<OptimizerSpec> & Pick<OptimizerSpec, 'type'>): TrainingSpec {
  const loaded = loadSpecText(e2eSpecText(c), 'e2e-step.simclr');
  if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
  return { ...loaded.spec, augment: { size: loaded.spec.augment.size }, optimizer: { ...optimizerFor({ ...loaded.spec.optimizer, lr_scaling: 'none' }, c.n), ...optimizer } };
}

const ENCODER: Record<string, string> = {
  stem_conv: 'encoder.layers.0',
  stem_bn: 'encoder.layers.1',
  'block.conv1': 'encoder.layers.3.body.0',
  'block.bn1': 'encoder.layers.3.body.1',
  'block.conv2': 'encoder.layers.3.body.3',
  'block.bn2': 'encoder.layers.3.body.4',
  down_conv: 'encoder.layers.4',
  down_bn: 'encoder.layers.5',
};

/** '0.block.bn1.running_mean' → 'encoder.layers.3.body.1.running_mean'; '1.6.bias' → 'projector.6.bias'. */
export function graphName(torchName: string): string {
  const [part, ...rest] = torchName.split('.');
  const field = rest.pop()!;
  const module = rest.join('.');
  if (part === '1') return `projector.${module}.${field}`;
  const mapped = ENCODER[module];
  if (!mapped) throw new Error(`unknown encoder module ${module}`);
  return `${mapped}.${field}`;
}

/** Views and parameters by graph name (num_batches_tracked has no counterpart: BN's momentum is fixed). */
export function e2eFeeds(c: E2eCase): Record<string, number[]> {
  const feeds: Record<string, number[]> = { views: [...c.x1, ...c.x2] };
  for (const [name, value] of Object.entries(c.params)) if (!name.endsWith('num_batches_tracked')) feeds[graphName(name)] = value;
  return feeds;
}

/**
 * The golden file's three optimizers with its hyper-parameters (first step). Its SGD and AdamW decay
 * every parameter, so those two set exclude_bn_and_bias false over the schema's default.
 */
export function e2eOptimizers(c: ReturnType<typeof e2e>): Record<'sgd' | 'adamw' | 'lars', OptimizerSpec> {
  const resolved = (o: Partial<OptimizerSpec> & Pick<OptimizerSpec, 'type'>) => e2eSpec(c, o).optimizer;
  return {
    sgd: resolved({ type: 'sgd', lr: c.sgd.lr, momentum: c.sgd.momentum, weight_decay: c.sgd.weight_decay, exclude_bn_and_bias: false }),
    adamw: resolved({ type: 'adamw', lr: c.adamw.lr, betas: c.adamw.betas, eps: c.adamw.eps, weight_decay: c.adamw.weight_decay, exclude_bn_and_bias: false }),
    lars: resolved({ type: 'lars', lr: c.lars.lr, momentum: c.lars.momentum, weight_decay: c.lars.weight_decay, eeta: c.lars.eeta, exclude_bn_and_bias: true }),
  };
}

/**
 * Compares the update w_after − w_before of every parameter against PyTorch's, relative to the
 * update's own scale: comparing w_after relative to the weights lets a wrong update hide under the
 * weights' size (a 1e-4 tolerance on w_after passes an 11–17% error in a LARS update).
 */
export async function assertUpdates(c: E2eCase, after: Record<string, number[]>, read: (graphName: string) => ArrayLike<number> | Promise<ArrayLike<number>>, tol: number, what: string): Promise<void> {
  for (const [name, want] of Object.entries(after)) {
    const before = c.params[name];
    const got = await read(graphName(name));
    assertClose(Array.from(got, (x, i) => x - before[i]), want.map((x, i) => x - before[i]), tol, `${what} ${name} update`);
  }
}
