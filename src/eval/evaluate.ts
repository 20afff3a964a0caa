// Evaluation of an encoder as the spec's `eval` section asks: kNN and/or a linear probe on frozen
// features of the labelled train split (the memory bank / probe training set) and the eval split.
import { classCount, DataError, type Dataset } from '../data/index.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ResolvedSpec } from '../spec/index.js';
import { extractFeatures } from './features.js';
import { knnClassify, type Features } from './knn.js';
import { linearProbe } from './linear-probe.js';

export interface EvalResult {
  knn_top1?: number;
  linear_top1?: number;
  feature_dim: number;
  train_count: number;
  test_count: number;
}

export interface EvalData {
  train: Dataset;
  test: Dataset;
}

export async function evaluateEncoder(
  rt: Runtime,
  spec: ResolvedSpec,
  weights: Record<string, Float32Array>,
  { train, test }: EvalData,
  log: (text: string) => void = () => {},
): Promise<EvalResult> {
  for (const ds of [train, test]) if (!ds.labels) throw new DataError(ds.name, 'evaluation needs labelled images, and these have no labels');
  const classes = Math.max(classCount(train), classCount(test));
  const trainFeatures = await extractFeatures(rt, spec, weights, train);
  const testFeatures = await extractFeatures(rt, spec, weights, test);
  const result: EvalResult = { feature_dim: trainFeatures.dim, train_count: train.count, test_count: test.count };
  if (spec.eval.knn) {
    // Evaluated on the training split, each query is in the bank: as its own nearest neighbour it would always be right.
    const excludeSelf = spec.data.eval_split === 'train';
    const k = Math.min(spec.eval.knn.k, train.count - (excludeSelf ? 1 : 0));
    const opts = { k, temperature: spec.eval.knn.temperature, classes, excludeSelf };
    result.knn_top1 = (await knnClassify(rt, trainFeatures, testFeatures, opts)).top1;
    log(`knn (k=${k}) top-1 ${pct(result.knn_top1)}`);
  }
  if (spec.eval.linear) {
    const probe = await linearProbe(rt, trainFeatures, testFeatures, { classes, epochs: spec.eval.linear.epochs, lr: spec.eval.linear.lr, seed: spec.train.seed });
    result.linear_top1 = probe.top1;
    log(`linear probe top-1 ${pct(result.linear_top1)}`);
  }
  return result;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export type { Features };
