// Fusion: graph → graph rewrites that leave the function unchanged and cut kernels and live buffers.
// Which ops take part is read from each op's pointwise declaration: the compiler names none.
import { getOp, numel, pointwiseOf, type KernelPlan, type Target } from '../kernels/op.js';
import type { Expr } from '../kernels/fused_elementwise.js';
import { Graph, ownArity, type Node } from '../ir/graph.js';
import { canEpilogue, withEpilogue } from './epilogue.js';
import { withPrologues } from './prologue.js';

export function fuse(g: Graph, target: Target): Graph {
  return fuseElementwise(fusePrologues(fuseEpilogues(g, target), target));
}

/** Shapes of the op's own inputs (without the arguments its prologues add). */
export function opShapes(g: Graph, n: Node): number[][] {
  return n.inputs.slice(0, ownArity(n)).map((i) => g.tensor(i).shape);
}

const isPointwise = (n: Node) => pointwiseOf(n.op) !== undefined && n.outputs.length === 1;

/** The node's kernel plan for the target with its fused prologue and epilogue (undefined: the WGSL refuses them). */
export function nodePlan(g: Graph, n: Node, target: Target) {
  let plan: KernelPlan | undefined = getOp(n.op).kernel(opShapes(g, n), n.attrs, target);
  if (n.prologue?.length) plan = withPrologues(plan, n.prologue);
  if (plan && n.epilogue?.length) plan = withEpilogue(plan, n.epilogue);
  return plan;
}

/**
 * Folds a pointwise op that allows it (relu_backward) into every kernel reading its result when all
 * of them can rewrite their loads: BN's backward and the two matmuls of a linear's backward read the
 * gradient and the relu's output instead of the masked gradient.
 */
export function fusePrologues(g: Graph, target: Target): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const rewritten = new Map<number, Node>();
  const folded = new Set<number>();
  for (const r of g.nodes) {
    const d = r.outputs[0];
    if (!pointwiseOf(r.op)?.prologue || named.has(d) || consumers[d].length === 0) continue;
    const candidates = new Map<number, Node>();
    const ok = consumers[d].every((id) => {
      const reader = rewritten.get(id) ?? g.nodes[id];
      const slot = reader.inputs.indexOf(d);
      if (isPointwise(reader) || reader.stage !== r.stage || reader.inputs.lastIndexOf(d) !== slot) return false;
      // The op's first argument takes the slot's binding; the others are read as extra inputs.
      const inputs = [...reader.inputs, ...r.inputs.slice(1)];
      inputs[slot] = r.inputs[0];
      const args = r.inputs.map((_, j) => (j === 0 ? slot : reader.inputs.length + j - 1));
      const candidate: Node = { ...reader, inputs, prologue: [...(reader.prologue ?? []), { input: slot, op: r.op, args }] };
      candidates.set(id, candidate);
      return nodePlan(g, candidate, target) !== undefined;
    });
    if (!ok) continue;
    folded.add(r.id);
    for (const [id, n] of candidates) rewritten.set(id, n);
  }
  const out = copyLeaves(g);
  for (const n of g.nodes) if (!folded.has(n.id)) out.nodes.push({ ...(rewritten.get(n.id) ?? n), id: out.nodes.length });
  setProducers(out);
  return out;
}

/**
 * Folds a unary pointwise op (relu) into the stores of its producer when it is the producer's only
 * reader: conv→relu, linear→relu and batchnorm (its apply program)→relu become one kernel each.
 */
export function fuseEpilogues(g: Graph, target: Target): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const out = copyLeaves(g);
  const dropped = new Set<number>();
  for (const producer of g.nodes) {
    if (dropped.has(producer.id)) continue;
    const t = producer.outputs[0];
    const readers = t === undefined ? [] : consumers[t];
    const reader = readers.length === 1 ? g.nodes[readers[0]] : undefined;
    const fusable =
      reader && !isPointwise(producer) && canEpilogue(reader.op) && !named.has(t) && reader.stage === producer.stage && reader.inputs.length === 1;
    if (fusable) {
      const candidate: Node = { ...producer, outputs: [reader.outputs[0], ...producer.outputs.slice(1)], epilogue: [...(producer.epilogue ?? []), reader.op] };
      if (nodePlan(g, candidate, target)) {
        dropped.add(reader.id);
        out.nodes.push({ ...candidate, id: out.nodes.length });
        continue;
      }
    }
    out.nodes.push({ ...producer, id: out.nodes.length });
  }
  setProducers(out);
  return out;
}

/**
 * Folds each pointwise node whose single output has exactly one reader, itself pointwise, into
 * that reader: a chain becomes one `fused_elementwise` node over the chain's outside inputs.
 */
export function fuseElementwise(g: Graph): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const size = (id: number) => numel(g.tensor(id).shape);
  const absorbed = new Set<number>();
  for (const n of g.nodes) {
    const t = n.outputs[0];
    const readers = consumers[t] ?? [];
    if (!isPointwise(n) || named.has(t) || readers.length !== 1) continue;
    const reader = g.nodes[readers[0]];
    const sameSize = [...n.inputs, ...reader.inputs].every((i) => size(i) === size(t));
    // Not across chunks: each chunk's parameter gradient is added to the running sum as it is made,
    // where one fused sum at the end would keep every chunk's gradient live and bind a buffer per chunk.
    if (isPointwise(reader) && sameSize && reader.stage === n.stage && reader.chunk === n.chunk) absorbed.add(n.id);
  }

  const out = copyLeaves(g);
  // Expression of each absorbed node's output over graph tensors (leaves hold tensor ids for now).
  const pending = new Map<number, Expr>();
  const exprOf = (n: Node): Expr => ({ op: n.op, args: n.inputs.map((i) => pending.get(i) ?? { input: i }) });
  for (const n of g.nodes) {
    if (absorbed.has(n.id)) {
      pending.set(n.outputs[0], exprOf(n));
      continue;
    }
    if (!isPointwise(n) || !n.inputs.some((i) => pending.has(i))) {
      out.nodes.push({ ...n, id: out.nodes.length });
      continue;
    }
    const leaves: number[] = [];
    const index = (e: Expr): Expr => {
      if ('op' in e) return { op: e.op, args: e.args.map(index) };
      if (!leaves.includes(e.input)) leaves.push(e.input);
      return { input: leaves.indexOf(e.input) };
    };
    const expr = index(exprOf(n));
    out.nodes.push({ ...n, id: out.nodes.length, op: 'fused_elementwise', inputs: leaves, attrs: { expr, shape: g.tensor(n.outputs[0]).shape } });
  }
  setProducers(out);
  return out;
}

function setProducers(g: Graph): void {
  for (const n of g.nodes) for (const o of n.outputs) g.tensors[o].producer = n.id;
}

/** A graph with g's tensors and outputs and no nodes. */
function copyLeaves(g: Graph): Graph {
  const out = new Graph();
  for (const t of g.tensors) out.tensors.push({ ...t, producer: undefined });
  for (const [name, id] of g.outputs) out.outputs.set(name, id);
  return out;
}
