// The SimCLR v2 golden cases (test/golden/finetune-step.json, distill.json): the e2e-step encoder and
// head as a spec, and the mapping from their PyTorch names to the graph's parameter names.
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { formatDiagnostic, loadSpecText } from '../../src/spec/index.js';
import { e2eSpecText, graphName as e2eName, type E2eCase } from '../compiler/e2e-case.js';
import { golden } from '../helpers/golden.js';

export interface FinetuneCase {
  from_layer: number;
  params: Record<string, number[]>;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
  sgd: { lr: number; momentum: number; weight_decay: number; params_after: Record<string, number[]> };
}

/** The batch both v2 golden files share: n images of channels × size², their labels among `classes`. */
interface V2Batch {
  n: number;
  channels: number;
  size: number;
  classes: number;
  x: number[];
  labels: number[];
}

export interface FinetuneGolden extends V2Batch {
  cases: FinetuneCase[];
}

export interface DistillCase {
  temperature: number;
  alpha: number;
  loss: number;
  student_logits: number[];
  grad_logits: number[];
  grads: Record<string, number[]>;
}

export interface DistillGolden extends V2Batch {
  teacher_logits: number[];
  student_params: Record<string, number[]>;
  cases: DistillCase[];
}

export const finetuneGolden = (): FinetuneGolden => golden<FinetuneGolden>('finetune-step.json');
export const distillGolden = (): DistillGolden => golden<DistillGolden>('distill.json');

/** The golden network built by the spec front end, fed its images (no augmentation ops). */
export function v2Spec(g: { n: number; channels: number; size: number }): ModelSpec {
  const loaded = loadSpecText(e2eSpecText({ n: g.n, channels: g.channels, size: g.size, temperature: 0.1 } as E2eCase), 'v2-step.simclr');
  if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
  return { ...loaded.spec, augment: { size: loaded.spec.augment.size } };
}

/**
 * Fine-tuning names: '0.0.*' the encoder (as e2e-step's '0.*'), '0.k.*' the head's nn.Sequential
 * index k−1 ('0.1.weight' → 'projector.0.weight'), '1.*' the classifier.
 */
export function finetuneName(torch: string): string {
  const [part, sub, ...rest] = torch.split('.');
  if (part === '1') return `classifier.${[sub, ...rest].join('.')}`;
  if (sub === '0') return e2eName(`0.${rest.join('.')}`);
  return `projector.${Number(sub) - 1}.${rest.join('.')}`;
}

/** Distillation names: '0.*' the student's encoder, '1.*' its classifier. */
export function distillName(torch: string): string {
  const [part, ...rest] = torch.split('.');
  return part === '1' ? `classifier.${rest.join('.')}` : e2eName(torch);
}

/** Parameters and running statistics by graph name (num_batches_tracked has no counterpart). */
export function paramFeeds(params: Record<string, number[]>, name: (torch: string) => string): Record<string, number[]> {
  const feeds: Record<string, number[]> = {};
  for (const [torch, value] of Object.entries(params)) if (!torch.endsWith('num_batches_tracked')) feeds[name(torch)] = value;
  return feeds;
}
