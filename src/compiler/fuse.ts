// Fusion: graph → graph rewrites that leave the function unchanged and cut kernels and live buffers.
import { getOp, numel, type KernelPlan, type Target } from '../kernels/op.js';
import { Graph, type Node } from '../ir/graph.js';
import { canEpilogue, withEpilogue } from './epilogue.js';
import { ELEMENTWISE, type Expr } from './fused-elementwise.js';
import { withPrologues } from './prologue.js';

export function fuse(g: Graph, target: Target): Graph {
  return fuseElementwise(fusePrologues(fuseEpilogues(reluMaskFromOutput(g), target), target));
}

/** Shapes of the op's own inputs (without the masks a prologue adds). */
export function opShapes(g: Graph, n: Node): number[][] {
  return n.inputs.slice(0, n.inputs.length - (n.prologue?.length ?? 0)).map((i) => g.tensor(i).shape);
}

/** The node's kernel plan for the target with its fused prologue and epilogue (undefined: the WGSL refuses them). */
export function nodePlan(g: Graph, n: Node, target: Target) {
  let plan: KernelPlan | undefined = getOp(n.op).kernel(opShapes(g, n), n.attrs, target);
  if (n.prologue?.length) plan = withPrologues(plan, n.prologue);
  if (plan && n.epilogue?.length) plan = withEpilogue(plan, n.epilogue);
  return plan;
}

/**
 * Folds relu_backward into every kernel reading its result when all of them can mask their loads:
 * BN's backward and the two matmuls of a linear's backward read the gradient straight from the relu.
 */
export function fusePrologues(g: Graph, target: Target): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const rewritten = new Map<number, Node>();
  const folded = new Set<number>();
  for (const r of g.nodes) {
    const d = r.outputs[0];
    if (r.op !== 'relu_backward' || named.has(d) || consumers[d].length === 0) continue;
    const candidates = new Map<number, Node>();
    const ok = consumers[d].every((id) => {
      const reader = rewritten.get(id) ?? g.nodes[id];
      const slot = reader.inputs.indexOf(d);
      if (reader.op in ELEMENTWISE || reader.stage !== r.stage || reader.inputs.lastIndexOf(d) !== slot) return false;
      const inputs = [...reader.inputs, r.inputs[0]];
      inputs[slot] = r.inputs[1];
      const candidate: Node = { ...reader, inputs, prologue: [...(reader.prologue ?? []), { input: slot, mask: inputs.length - 1 }] };
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
 * Folds a unary op (relu) into the stores of its producer when it is the producer's only reader:
 * conv→relu, linear→relu and batchnorm (its apply program)→relu become one kernel each.
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
      reader && !(producer.op in ELEMENTWISE) && canEpilogue(reader.op) && !named.has(t) && reader.stage === producer.stage && reader.inputs.length === 1;
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
 * relu_backward(x, g) masks by x > 0, which is relu(x) > 0: reading the relu's output instead leaves
 * the pre-activation x with one reader (the relu), so relu can fuse into x's producer.
 */
export function reluMaskFromOutput(g: Graph): Graph {
  const reluOf = new Map<number, number>();
  for (const n of g.nodes) if (n.op === 'relu') reluOf.set(n.inputs[0], n.outputs[0]);
  const out = copyLeaves(g);
  for (const n of g.nodes) {
    const y = n.op === 'relu_backward' ? reluOf.get(n.inputs[0]) : undefined;
    out.nodes.push({ ...n, inputs: y === undefined ? n.inputs : [y, n.inputs[1]] });
  }
  setProducers(out);
  return out;
}

/**
 * Folds each elementwise node whose single output has exactly one reader, itself elementwise, into
 * that reader: a chain becomes one `fused_elementwise` node over the chain's outside inputs.
 */
export function fuseElementwise(g: Graph): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const isEw = (n: Node) => n.op in ELEMENTWISE && n.outputs.length === 1;
  const size = (id: number) => numel(g.tensor(id).shape);
  const absorbed = new Set<number>();
  for (const n of g.nodes) {
    const t = n.outputs[0];
    const readers = consumers[t] ?? [];
    if (!isEw(n) || named.has(t) || readers.length !== 1) continue;
    const reader = g.nodes[readers[0]];
    const sameSize = [...n.inputs, ...reader.inputs].every((i) => size(i) === size(t));
    if (isEw(reader) && sameSize && reader.stage === n.stage) absorbed.add(n.id);
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
    if (!isEw(n) || !n.inputs.some((i) => pending.has(i))) {
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
