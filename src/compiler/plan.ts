// Buffer planning by liveness: named tensors (views, params, state, consts) own a buffer for the
// whole run; every other tensor takes a freed buffer when one fits, so a step's memory is the peak
// of what is live at once rather than the sum of every tensor.
import { STEP_BYTES, tensorBytes } from '../kernels/op.js';
import type { Graph, Tensor } from '../ir/graph.js';
import type { PlannedBuffer } from './kernel-graph.js';

export interface NodeNeeds {
  /** Output k is written into input inplace[k]'s buffer. */
  inplace?: Record<number, number>;
  scratchBytes: number[];
  /** Output slots some program of the node writes (a view's aliased output is written by none). */
  written: number[];
  /** Some program of the node binds the per-step uniform. */
  readsStep?: boolean;
}

export interface BufferPlan {
  buffers: PlannedBuffer[];
  tensorBuffer: number[];
  /** Scratch buffer ids of each node. */
  scratch: number[][];
  naiveBytes: number;
  /** The per-step uniform's buffer id, when some program binds 'step'. */
  step?: number;
}

const bytesOf = (t: Tensor) => tensorBytes(t.shape, t.dtype);

export function planBuffers(g: Graph, needs: NodeNeeds[]): BufferPlan {
  const buffers: PlannedBuffer[] = [];
  const tensorBuffer = new Array<number>(g.tensors.length).fill(-1);
  const make = (bytes: number, kind: PlannedBuffer['kind'], extra: Partial<PlannedBuffer> = {}): PlannedBuffer => {
    const b: PlannedBuffer = { id: buffers.length, bytes, kind, tensors: [], ...extra };
    buffers.push(b);
    return b;
  };
  const place = (tensor: number, buffer: number) => {
    tensorBuffer[tensor] = buffer;
    buffers[buffer].tensors.push(tensor);
  };

  const used = new Set<number>();
  for (const n of g.nodes) for (const i of n.inputs) used.add(i);
  let naiveBytes = 0;
  for (const t of g.tensors) {
    if (t.role === 'value' || !(used.has(t.id) || t.name)) continue;
    place(t.id, make(bytesOf(t), t.role, { name: t.name, fill: t.fill, bound: t.bound, ...(t.dtype ? { dtype: t.dtype } : {}) }).id);
    naiveBytes += bytesOf(t);
  }
  const step = needs.some((n) => n.readsStep) ? make(STEP_BYTES, 'step', { name: 'step' }).id : undefined;

  // Last node reading each tensor; named outputs live to the end of the step.
  const end = g.nodes.length;
  const lastUse = new Array<number>(g.tensors.length).fill(-1);
  g.nodes.forEach((n, k) => n.inputs.forEach((i) => (lastUse[i] = k)));
  for (const id of g.outputs.values()) lastUse[id] = end;

  // Every temporary is an interval of nodes [first, last] of some bytes: a tensor from the node
  // that writes it to its last reader, joined with the outputs written in place into it, or one
  // node's scratch. Placing the largest first, each into the smallest buffer already free over its
  // whole interval, keeps the sum of buffers near the peak of live bytes; taking buffers as the
  // step runs instead leaves large buffers holding small tensors when the next large one comes (a
  // chunked step's planned peak was 2.4× its live peak).
  interface Interval { first: number; last: number; bytes: number; tensors: number[] }
  const intervals: Interval[] = [];
  const intervalOf = new Map<number, Interval>();
  const scratchOf: { node: number; slot: number; interval: Interval }[] = [];
  g.nodes.forEach((n, k) => {
    const need = needs[k];
    n.outputs.forEach((o, slot) => {
      const source = need.inplace?.[slot];
      if (source !== undefined) {
        const old = n.inputs[source];
        if (need.written.includes(slot) && lastUse[old] > k) {
          throw new Error(`${n.path}: ${n.op} overwrites a tensor that node ${g.nodes[lastUse[old]].op} (${g.nodes[lastUse[old]].path}) still reads afterwards`);
        }
        const into = intervalOf.get(old);
        if (!into) return place(o, tensorBuffer[old]);
        into.last = Math.max(into.last, lastUse[o], k);
        into.bytes = Math.max(into.bytes, bytesOf(g.tensor(o)));
        into.tensors.push(o);
        intervalOf.set(o, into);
        return;
      }
      naiveBytes += bytesOf(g.tensor(o));
      const iv: Interval = { first: k, last: Math.max(lastUse[o], k), bytes: bytesOf(g.tensor(o)), tensors: [o] };
      intervals.push(iv);
      intervalOf.set(o, iv);
    });
    need.scratchBytes.forEach((bytes, slot) => {
      const iv: Interval = { first: k, last: k, bytes, tensors: [] };
      intervals.push(iv);
      scratchOf.push({ node: k, slot, interval: iv });
    });
    naiveBytes += need.scratchBytes.reduce((a, b) => a + b, 0);
  });

  const held = new Map<number, Interval[]>();
  const bufferOf = new Map<Interval, number>();
  const order = intervals.map((iv, k) => ({ iv, k })).sort((a, b) => b.iv.bytes - a.iv.bytes || a.k - b.k);
  for (const { iv } of order) {
    let pick = -1;
    for (const [id, ivs] of held) {
      if (ivs.some((o) => o.first <= iv.last && iv.first <= o.last)) continue;
      if (pick < 0 || buffers[id].bytes < buffers[pick].bytes) pick = id;
    }
    if (pick < 0) {
      pick = make(iv.bytes, 'temp').id;
      held.set(pick, []);
    }
    held.get(pick)!.push(iv);
    bufferOf.set(iv, pick);
  }
  for (const iv of intervals) for (const t of iv.tensors) place(t, bufferOf.get(iv)!);
  const scratch: number[][] = g.nodes.map(() => []);
  for (const { node, slot, interval } of scratchOf) scratch[node][slot] = bufferOf.get(interval)!;
  // A temp buffer's element type is its tensors' when they share one other than f32 (f16 activations).
  for (const b of buffers) {
    if (b.kind !== 'temp' || !b.tensors.length) continue;
    const types = new Set(b.tensors.map((t) => g.tensor(t).dtype ?? 'f32'));
    if (types.size === 1 && !types.has('f32')) b.dtype = [...types][0];
    else if (types.size > 1) b.dtypes = [...types].sort();
  }
  return { buffers, tensorBuffer, scratch, naiveBytes, step };
}
