// Weighted kNN evaluation (InstDisc, used by SimCLR papers and lightly): features L2-normalised, the
// k most cosine-similar training items of each test item vote for their class with weight
// exp(sim / T), and the class with the largest vote is the prediction. Similarities are a chunked
// matmul on the device; the top-k selection runs on the CPU while the device computes the next chunk.
import type { Runtime } from '../gpu/runtime.js';
import { recordSimilarity, uploadBank, type Bank } from './similarity.js';

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
  /** Chunking overrides (items per bank upload, query rows per pass); by default from the adapter's limits. */
  bankItems?: number;
  queryRows?: number;
}

export interface KnnResult {
  top1: number;
  predictions: Int32Array;
}

/** Bytes of similarities the device computes per chunk: big enough to amortise, small enough to read back. */
const CHUNK_BYTES = 48 << 20;

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

/** Per query row, the k largest similarities seen so far, kept as a min-heap (root = weakest). */
class TopK {
  readonly sims: Float32Array;
  readonly items: Int32Array;
  readonly filled: Int32Array;

  constructor(
    rows: number,
    readonly k: number,
  ) {
    this.sims = new Float32Array(rows * k);
    this.items = new Int32Array(rows * k);
    this.filled = new Int32Array(rows);
  }

  /** Offers `count` candidates values[from …] with item ids first, first+1, … to row `row`. */
  offer(row: number, values: Float32Array, from: number, count: number, first: number): void {
    const { k, sims, items } = this;
    const base = row * k;
    let filled = this.filled[row];
    let j = 0;
    for (; j < count && filled < k; j++) {
      let at = filled++;
      const v = values[from + j];
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (sims[base + parent] <= v) break;
        sims[base + at] = sims[base + parent];
        items[base + at] = items[base + parent];
        at = parent;
      }
      sims[base + at] = v;
      items[base + at] = first + j;
    }
    this.filled[row] = filled;
    let weakest = sims[base];
    for (; j < count; j++) {
      const v = values[from + j];
      if (v <= weakest) continue;
      this.replaceRoot(base, v, first + j);
      weakest = sims[base];
    }
  }

  private replaceRoot(base: number, v: number, item: number): void {
    const { k, sims, items } = this;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= k) break;
      const right = left + 1;
      const child = right < k && sims[base + right] < sims[base + left] ? right : left;
      if (sims[base + child] >= v) break;
      sims[base + at] = sims[base + child];
      items[base + at] = items[base + child];
      at = child;
    }
    sims[base + at] = v;
    items[base + at] = item;
  }
}

/** The weighted vote over neighbours; ties go to the lower class index. */
function vote(sims: ArrayLike<number>, labels: ArrayLike<number>, temperature: number, classes: number): number {
  const scores = new Float64Array(classes);
  for (let i = 0; i < sims.length; i++) scores[labels[i]] += Math.exp(sims[i] / temperature);
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[c] > scores[best]) best = c;
  return best;
}

function checkInputs(train: Features, test: Features, { k }: KnnOptions): void {
  if (train.dim !== test.dim) throw new RangeError(`kNN: train features have dimension ${train.dim}, test features ${test.dim}`);
  if (!Number.isInteger(k) || k < 1 || k > train.count) throw new RangeError(`kNN: k must be between 1 and the ${train.count} training items, not ${k}`);
}

function score(predictions: Int32Array, labels: Int32Array): KnnResult {
  let right = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) right++;
  return { top1: right / predictions.length, predictions };
}

export async function knnClassify(rt: Runtime, train: Features, test: Features, opts: KnnOptions): Promise<KnnResult> {
  checkInputs(train, test, opts);
  const { dim } = train;
  const bankData = l2Normalize(train.data, train.count, dim);
  const queryData = l2Normalize(test.data, test.count, dim);
  const maxBinding = rt.target.maxStorageBufferBindingSize;
  const bankItems = opts.bankItems ?? Math.max(4, Math.min(train.count, Math.floor(maxBinding / (4 * dim)) & ~3));
  const rowBytes = 4 * 4 * Math.ceil(bankItems / 4);
  const queryRows = opts.queryRows ?? Math.max(1, Math.min(test.count, Math.floor(Math.min(CHUNK_BYTES, maxBinding) / rowBytes)));
  const top = new TopK(test.count, opts.k);
  const sims = [rt.buffer(queryRows * rowBytes, 'knn sims 0'), rt.buffer(queryRows * rowBytes, 'knn sims 1')];
  const queries = [rt.buffer(queryRows * dim * 4, 'knn queries 0'), rt.buffer(queryRows * dim * 4, 'knn queries 1')];
  let pending: { result: Promise<ArrayBuffer>; bank: Bank; from: number; rows: number } | undefined;
  const consume = async (p: NonNullable<typeof pending>) => {
    const values = new Float32Array(await p.result);
    const stride = p.bank.n4 * 4;
    for (let r = 0; r < p.rows; r++) top.offer(p.from + r, values, r * stride, p.bank.count, p.bank.first);
  };
  let chunk = 0;
  let bank: Bank | undefined;
  try {
    for (let first = 0; first < train.count; first += bankItems) {
      // The old bank is freed once the work already submitted on it is done: one bank is held at a time.
      bank?.buffer.destroy();
      bank = uploadBank(rt, bankData, dim, first, Math.min(train.count, first + bankItems));
      for (let from = 0; from < test.count; from += queryRows, chunk++) {
        const rows = Math.min(queryRows, test.count - from);
        const slot = chunk % 2;
        rt.write(queries[slot], queryData.subarray(from * dim, (from + rows) * dim));
        await recordSimilarity(rt, queries[slot], rows, bank, sims[slot]);
        const next = { result: rt.read(sims[slot], rows * bank.n4 * 16), bank, from, rows };
        if (pending) await consume(pending);
        pending = next;
      }
    }
    if (pending) await consume(pending);
  } finally {
    for (const b of [...sims, ...queries]) b.destroy();
    bank?.buffer.destroy();
  }
  const predictions = new Int32Array(test.count);
  const neighbourLabels = new Int32Array(opts.k);
  for (let r = 0; r < test.count; r++) {
    const simsOfRow = top.sims.subarray(r * opts.k, (r + 1) * opts.k);
    for (let i = 0; i < opts.k; i++) neighbourLabels[i] = train.labels[top.items[r * opts.k + i]];
    predictions[r] = vote(simsOfRow, neighbourLabels, opts.temperature, opts.classes);
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
  const predictions = Int32Array.from(unit(test), (q) => {
    const ranked = bank
      .map((b, n) => ({ n, sim: b.reduce((acc, v, j) => acc + v * q[j], 0) }))
      .sort((a, b) => b.sim - a.sim)
      .slice(0, opts.k);
    return vote(ranked.map((r) => r.sim), ranked.map((r) => train.labels[r.n]), opts.temperature, opts.classes);
  });
  return score(predictions, test.labels);
}
