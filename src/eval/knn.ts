// Weighted kNN evaluation (InstDisc, used by SimCLR papers and lightly): features L2-normalised, the
// k most cosine-similar training items of each test item vote for their class with weight
// exp(sim / T), and the class with the largest vote is the prediction. On the device it is one
// compiled graph of knn_similarity → knn_topk → knn_vote (src/kernels/knn.ts), run once per chunk:
// the bank (the training features) in chunks that fit one binding, the queries in chunks whose
// similarities fit CHUNK_BYTES; each query's neighbours so far are state the chunks merge into.
import { compileGraph } from '../compiler/compile.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import { Graph } from '../ir/graph.js';
import { EMPTY_ITEM, EMPTY_SIM, weightedVote } from '../kernels/knn.js';
import { ceilDiv } from '../kernels/op.js';

/** Row-major count × dim features with one label each. */
export interface Features {
  data: Float32Array;
  count: number;
  dim: number;
  labels: Int32Array;
}

export interface KnnOptions {
  k: number;
  temperature: number;
  classes: number;
  /** Train and test are the same items in the same order (eval_split: train): no item is its own neighbour. */
  excludeSelf?: boolean;
  /** Chunking overrides (items per bank upload, query rows per pass); by default from the adapter's limits. */
  bankItems?: number;
  queryRows?: number;
}

export interface KnnResult {
  top1: number;
  predictions: Int32Array;
}

/** Bytes of similarities the device computes per chunk: big enough to amortise, small enough to hold. */
const CHUNK_BYTES = 48 << 20;

/** Item ids and counts travel as f32 in the graph: exact up to here. */
const EXACT_IDS = 1 << 24;

/** Rows scaled to unit length (a zero row stays zero, as x / max(‖x‖, 1e-12) gives). */
export function l2Normalize(data: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let n = 0; n < count; n++) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += data[n * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
    for (let j = 0; j < dim; j++) out[n * dim + j] = data[n * dim + j] * scale;
  }
  return out;
}

function checkInputs(train: Features, test: Features, { k, excludeSelf }: KnnOptions): void {
  if (train.dim !== test.dim) throw new RangeError(`kNN: train features have dimension ${train.dim}, test features ${test.dim}`);
  if (excludeSelf && train.count !== test.count) throw new RangeError(`kNN: excluding each item from its own neighbours needs the same items as bank and queries, not ${train.count} and ${test.count}`);
  const candidates = excludeSelf ? `${train.count - 1} other` : `${train.count}`;
  if (!Number.isInteger(k) || k < 1 || k > train.count - (excludeSelf ? 1 : 0)) throw new RangeError(`kNN: k must be between 1 and the ${candidates} training items, not ${k}`);
}

function score(predictions: Int32Array, labels: Int32Array): KnnResult {
  let right = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) right++;
  return { top1: right / predictions.length, predictions };
}

interface KnnShape {
  dim: number;
  /** Bank items per chunk, padded to a multiple of 4 (the similarity kernel reads vec4s of items). */
  bankCols: number;
  queryRows: number;
  trainCount: number;
  testCount: number;
}

/** The per-chunk graph: similarities of a query chunk against a bank chunk, merged into every query's neighbours, voted. */
function knnGraph(s: KnnShape, opts: KnnOptions): Graph {
  const g = new Graph();
  const path = 'eval.knn';
  const input = (name: string, shape: number[]) => g.leaf('input', shape, path, { name });
  const queries = input('queries', [s.queryRows, s.dim]);
  const bank = input('bank', [s.dim, s.bankCols]);
  const window = input('window', [4]);
  const labels = input('bank_labels', [s.trainCount]);
  const sims = g.leaf('state', [s.testCount, opts.k], path, { name: 'neighbour_sims', fill: EMPTY_SIM });
  const items = g.leaf('state', [s.testCount, opts.k], path, { name: 'neighbour_items', fill: EMPTY_ITEM });
  const [similarity] = g.add('knn_similarity', [queries, bank], {}, path, 'eval');
  const [topSims, topItems] = g.add('knn_topk', [similarity, window, sims, items], { exclude_self: !!opts.excludeSelf }, path, 'eval');
  const [predictions] = g.add('knn_vote', [topSims, topItems, labels, window], { classes: opts.classes, temperature: opts.temperature, rows: s.queryRows }, path, 'eval');
  g.outputs.set('neighbour_sims', topSims.id);
  g.outputs.set('neighbour_items', topItems.id);
  g.outputs.set('predictions', predictions.id);
  return g;
}

/** Items [from, from + count) of a row-major N × D matrix, feature-major with `cols` columns (zeros past count). */
function featureMajor(rows: Float32Array, dim: number, from: number, count: number, cols: number): Float32Array {
  const t = new Float32Array(dim * cols);
  for (let n = 0; n < count; n++) {
    const src = (from + n) * dim;
    for (let k = 0; k < dim; k++) t[k * cols + n] = rows[src + k];
  }
  return t;
}

export async function knnClassify(rt: Runtime, train: Features, test: Features, opts: KnnOptions): Promise<KnnResult> {
  checkInputs(train, test, opts);
  const { dim } = train;
  if (Math.max(train.count, test.count) >= EXACT_IDS) throw new RangeError(`kNN: at most ${EXACT_IDS - 1} items per set, not ${Math.max(train.count, test.count)}`);
  const maxBinding = rt.target.maxStorageBufferBindingSize;
  if (test.count * opts.k * 4 > maxBinding) throw new RangeError(`kNN: ${test.count} queries × k = ${opts.k} neighbours exceed the adapter's ${maxBinding}-byte binding`);
  const bankData = l2Normalize(train.data, train.count, dim);
  const queryData = l2Normalize(test.data, test.count, dim);
  const bankItems = opts.bankItems ?? Math.max(4, Math.min(train.count, Math.floor(maxBinding / (4 * dim)) & ~3));
  const bankCols = 4 * ceilDiv(bankItems, 4);
  const queryRows = opts.queryRows ?? Math.max(1, Math.min(test.count, Math.floor(Math.min(CHUNK_BYTES, maxBinding) / (4 * bankCols))));
  const shape = { dim, bankCols, queryRows, trainCount: train.count, testCount: test.count };
  const ex = await StepExecutor.create(rt, compileGraph(knnGraph(shape, opts), rt.target).kernels);
  const predictions = new Int32Array(test.count);
  try {
    ex.write('bank_labels', Float32Array.from(train.labels));
    const query = new Float32Array(queryRows * dim);
    const reads: Promise<void>[] = [];
    for (let first = 0; first < train.count; first += bankItems) {
      const count = Math.min(bankItems, train.count - first);
      ex.write('bank', featureMajor(bankData, dim, first, count, bankCols));
      const lastBank = first + count === train.count;
      for (let from = 0; from < test.count; from += queryRows) {
        const rows = Math.min(queryRows, test.count - from);
        query.fill(0).set(queryData.subarray(from * dim, (from + rows) * dim));
        ex.write('queries', query);
        ex.write('window', [first, count, from, rows]);
        ex.record();
        // The next chunk's writes must follow this chunk's work on the queue: a read submits, else submit.
        if (lastBank) reads.push(ex.read('predictions').then((p) => predictions.set(p.subarray(0, rows), from)));
        else rt.submit();
      }
    }
    await Promise.all(reads);
  } finally {
    ex.destroy();
  }
  return score(predictions, test.labels);
}

/** The same evaluation in float64 on the CPU, by full sort: the reference the device path is tested against. */
export function knnReference(train: Features, test: Features, opts: KnnOptions): KnnResult {
  checkInputs(train, test, opts);
  const unit = (f: Features) =>
    Array.from({ length: f.count }, (_, n) => {
      const row = Array.from(f.data.subarray(n * f.dim, (n + 1) * f.dim));
      const norm = Math.max(Math.hypot(...row), 1e-12);
      return row.map((v) => v / norm);
    });
  const bank = unit(train);
  const predictions = Int32Array.from(unit(test), (q, m) => {
    const ranked = bank
      .map((b, n) => ({ n, sim: b.reduce((acc, v, j) => acc + v * q[j], 0) }))
      .filter((r) => !(opts.excludeSelf && r.n === m))
      .sort((a, b) => b.sim - a.sim)
      .slice(0, opts.k);
    return weightedVote(ranked.map((r) => r.sim), (i) => train.labels[ranked[i].n], opts.temperature, opts.classes);
  });
  return score(predictions, test.labels);
}
