// Mixed precision as a graph rewrite (`train.precision: f16`): activations and their gradients are
// f16 tensors, which is what a step's peak memory is made of. Kernels keep their f32 bodies and read
// and write f16 tensors through widening loads and narrowing stores (src/kernels/half-io.ts), so
// matmul and convolution take f16 operands and accumulate in f32; an op whose program the rewrite
// cannot read gets `cast` nodes around it instead. Weights, their gradients, optimizer state,
// BatchNorm statistics, InfoNCE's log-sum-exp and the loss stay f32, as PyTorch autocast keeps them.
import { getOp, type KernelPlan, type Program, type Target } from '../kernels/op.js';
import { Graph, type Node, type Tensor } from '../ir/graph.js';
import { opShapes } from './fuse.js';
import { halfStorage } from '../kernels/half-io.js';

/** Ops with their own f16 variant for some inputs, chosen by `half: true` (the fused InfoNCE reads z as f16). */
const HALF_READERS: Record<string, number[]> = { infonce: [0], infonce_backward: [0] };

/** Outputs that stay f32: losses and their row statistics, and what the loss gradient seeds. */
const KEEP_F32 = new Set(['infonce', 'infonce_backward']);

/**
 * The tensors stored as f16: every computed tensor of rank > 1 (per-channel vectors are statistics,
 * scalars are losses) except named results, losses, and the gradients of parameters, which reach
 * an update only through sums of contributions.
 */
function halved(g: Graph): Set<number> {
  const paramGrads = new Set<number>();
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (n.stage === 'update') n.inputs.forEach((i) => paramGrads.add(i));
    else if (n.op === 'add' && n.outputs.some((o) => paramGrads.has(o))) n.inputs.forEach((i) => paramGrads.add(i));
  }
  const named = new Set(g.outputs.values());
  const out = new Set<number>();
  for (const n of g.nodes) {
    if (n.stage !== 'forward' && n.stage !== 'backward') continue;
    // An in-place output shares its source's buffer, and so its element type.
    if (KEEP_F32.has(n.op) || getOp(n.op).inplace) continue;
    for (const o of n.outputs) {
      const t = g.tensor(o);
      if ((t.dtype ?? 'f32') === 'f32' && t.shape.length > 1 && !named.has(o) && !paramGrads.has(o)) out.add(o);
    }
  }
  return out;
}

/**
 * Binding numbers of the program's storage arrays that hold halves when `isHalf` says which tensors
 * are f16: the node's own, and scratch copying one of them (KernelPlan.scratchCopies).
 */
export function halfBindings(n: Node, plan: KernelPlan, p: Program, isHalf: (tensor: number) => boolean): number[] {
  const tensorOf = (binding: string): number | undefined => {
    const [kind, index] = binding.split(':');
    if (kind === 'in') return n.inputs[Number(index)];
    if (kind === 'out') return n.outputs[Number(index)];
    const copied = kind === 'tmp' ? plan.scratchCopies?.[Number(index)] : undefined;
    return copied === undefined ? undefined : tensorOf(copied);
  };
  const first = p.params ? 1 : 0;
  return p.bindings.flatMap((b, k) => {
    const t = tensorOf(b);
    return t !== undefined && isHalf(t) ? [first + k] : [];
  });
}

/** The plan's scratch sizes, a copy of an f16 tensor at half the f32 bytes (kept whole 4-byte words). */
export function scratchBytes(n: Node, plan: KernelPlan, isHalf: (tensor: number) => boolean): number[] {
  return (plan.scratchBytes ?? []).map((bytes, slot) => {
    const copied = plan.scratchCopies?.[slot];
    const [kind, index] = copied?.split(':') ?? [];
    return kind === 'in' && isHalf(n.inputs[Number(index)]) ? Math.ceil(bytes / 8) * 4 : bytes;
  });
}

/** Whether the node's programs can read and write the given f16 slots through the rewrite. */
function takesHalves(g: Graph, n: Node, half: Set<number>, target: Target): boolean {
  const plan = getOp(n.op).kernel(opShapes(g, n), n.attrs, target);
  try {
    for (const p of plan.programs) halfStorage(p.code, halfBindings(n, plan, p, (t) => half.has(t)));
    return true;
  } catch {
    return false;
  }
}

export function halfPrecision(g: Graph, target: Target): Graph {
  const half = halved(g);
  const out = new Graph();
  for (const t of g.tensors) out.tensors.push({ ...t, ...(half.has(t.id) ? { dtype: 'f16' as const } : {}) });
  for (const [name, id] of g.outputs) out.outputs.set(name, id);
  const push = (n: Omit<Node, 'id'>) => {
    const id = out.nodes.length;
    out.nodes.push({ ...n, id });
    for (const o of n.outputs) out.tensors[o].producer = id;
  };
  /** A cast of `from` into a new tensor, or into `into` (an f16 tensor whose readers stay as they are). */
  const cast = (from: number, to: 'f16' | 'f32', n: Node, into?: number): number => {
    let id = into;
    if (id === undefined) {
      id = out.tensors.length;
      out.tensors.push({ id, shape: [...out.tensor(from).shape], role: 'value', path: n.path, ...(to === 'f16' ? { dtype: to } : {}) });
    }
    push({ op: 'cast', inputs: [from], outputs: [id], attrs: { to }, path: n.path, stage: n.stage });
    return id;
  };
  for (const n of g.nodes) {
    const direct = HALF_READERS[n.op]?.filter((slot) => half.has(n.inputs[slot])) ?? [];
    const node: Node = direct.length ? { ...n, attrs: { ...n.attrs, half: true } } : n;
    if (![...n.inputs, ...n.outputs].some((t) => half.has(t)) || direct.length || takesHalves(out, node, half, target)) {
      push(node);
      continue;
    }
    // The op's programs cannot take halves: f32 copies around it, each living for this one kernel.
    const inputs = n.inputs.map((i) => (half.has(i) ? cast(i, 'f32', n) : i));
    const outputs = n.outputs.map((o) => {
      if (!half.has(o)) return o;
      const { dtype: _half, ...wide }: Tensor = { ...out.tensor(o), id: out.tensors.length };
      out.tensors.push(wide);
      return wide.id;
    });
    push({ ...n, inputs, outputs });
    n.outputs.forEach((o, slot) => half.has(o) && cast(outputs[slot], 'f16', n, o));
  }
  return out;
}
