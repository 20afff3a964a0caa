// Fusion: graph → graph rewrites that leave the function unchanged and cut kernels and live buffers.
// Which ops take part is read from each op's pointwise and gather declarations; two rewrites name
// their ops: the backward of BN→ReLU, and BN→(ReLU→)maxpool.
import { getOp, numel, pointwiseOf, type KernelPlan, type Target } from '../kernels/op.js';
import { canPool } from '../kernels/batchnorm.js';
import type { MaxPoolAttrs } from '../kernels/pool.js';
import type { Expr } from '../kernels/fused_elementwise.js';
import { Graph, ownArity, type Node } from '../ir/graph.js';
import { canEpilogue, withEpilogue } from './epilogue.js';
import { gatherOf, withPrologues } from './prologue.js';

export function fuse(g: Graph, target: Target): Graph {
  return fuseElementwise(fusePrologues(fuseBatchnormPool(fuseEpilogues(fuseBatchnormRelu(g), target), target), target));
}

/** The forward batchnorm node whose relu'd output masks `n`'s ∂y, its β, and the mask node. */
function match(g: Graph, n: Node, consumers: number[][], named: Set<number>): { beta: number; grad: number; mask: Node } | undefined {
  if (n.op !== 'batchnorm_backward' || n.attrs.relu || n.prologue?.length || n.inputs.length !== 5) return undefined;
  const [x, gamma, mean, stat, gy] = n.inputs;
  const mask = producer(g, gy);
  if (mask?.op !== 'relu_backward' || consumers[gy].length !== 1 || named.has(gy) || mask.chunk !== n.chunk) return undefined;
  const relu = producer(g, mask.inputs[0]);
  const forward = relu?.op === 'relu' ? producer(g, relu.inputs[0]) : undefined;
  if (!forward || forward.outputs[0] !== relu!.inputs[0] || forward.inputs[0] !== x || forward.inputs[1] !== gamma) return undefined;
  // Training normalises by the batch statistics the forward saved, eval by the running ones it read.
  const stats = n.attrs.eval ? forward.op === 'batchnorm_eval' && forward.inputs.slice(3, 5) : forward.op === 'batchnorm' && forward.outputs.slice(3, 5);
  if (!stats || stats[0] !== mean || stats[1] !== stat) return undefined;
  return { beta: forward.inputs[2], grad: mask.inputs[1], mask };
}

function producer(g: Graph, id: number): Node | undefined {
  const p = g.tensor(id).producer;
  return p === undefined ? undefined : g.nodes[p];
}

/**
 * The backward of BN→ReLU without the relu's output. relu_backward masks ∂y by the relu's output,
 * which batchnorm_backward then reads in both its passes (the mask folded into its loads). The
 * output is positive exactly where BN's own output is, which batchnorm_backward recomputes from the
 * x, γ, β and statistics it has (attr `relu`): two full-size reads fewer, and the relu's output is
 * left to its forward readers.
 */
export function fuseBatchnormRelu(g: Graph): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const rewritten = new Map<number, Node>();
  const dropped = new Set<number>();
  for (const n of g.nodes) {
    const m = match(g, n, consumers, named);
    if (!m) continue;
    const [x, gamma, mean, stat] = n.inputs;
    rewritten.set(n.id, { ...n, inputs: [x, gamma, mean, stat, m.grad, m.beta], attrs: { ...n.attrs, relu: true } });
    dropped.add(m.mask.id);
  }
  return rebuilt(g, rewritten, dropped);
}

/**
 * BN (with a relu its epilogue) → 2×2/2 maxpool as one kernel: BN's apply pools its own output
 * (attrs `pool`, `relu`), so the full-size activation is never written nor read back. Only where the
 * pool is the output's one reader, which the relu's mask recomputed in the backward
 * (fuseBatchnormRelu) makes it.
 */
export function fuseBatchnormPool(g: Graph, target: Target): Graph {
  return absorbReaders(g, target, (n, pool) => {
    const relu = n.epilogue?.join() === 'relu';
    if (!(n.op === 'batchnorm' || n.op === 'batchnorm_eval') || n.attrs.pool || pool.op !== 'maxpool2d' || pool.chunk !== n.chunk || !(relu || !n.epilogue?.length)) return undefined;
    const { kernel, stride, padding } = pool.attrs as MaxPoolAttrs;
    const attrs = { ...n.attrs, pool: { kernel, stride, padding }, ...(relu ? { relu } : {}) };
    if (!canPool(g.tensor(n.inputs[0]).shape, attrs.pool, target)) return undefined;
    const { epilogue: _relu, ...bn } = n;
    return { ...bn, attrs, outputs: [pool.outputs[0], ...n.outputs.slice(1), pool.outputs[1]] };
  });
}

/**
 * Each node whose output 0 has one reader, of its own stage and not a named result, that `absorb`
 * merges into it (undefined: it cannot) in a plan the target accepts, takes the reader's place.
 */
function absorbReaders(g: Graph, target: Target, absorb: (producer: Node, reader: Node) => Node | undefined): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const out = copyLeaves(g);
  const dropped = new Set<number>();
  for (const producer of g.nodes) {
    if (dropped.has(producer.id)) continue;
    const t = producer.outputs[0];
    const readers = t === undefined || named.has(t) ? [] : consumers[t];
    const reader = readers.length === 1 ? g.nodes[readers[0]] : undefined;
    const merged = reader && reader.stage === producer.stage ? absorb(producer, reader) : undefined;
    if (reader && merged && nodePlan(g, merged, target)) {
      dropped.add(reader.id);
      out.nodes.push({ ...merged, id: out.nodes.length });
      continue;
    }
    out.nodes.push({ ...producer, id: out.nodes.length });
  }
  setProducers(out);
  return out;
}

/** Shapes of the op's own inputs (without the arguments its prologues add). */
export function opShapes(g: Graph, n: Node): number[][] {
  return n.inputs.slice(0, ownArity(n)).map((i) => g.tensor(i).shape);
}

const isPointwise = (n: Node) => pointwiseOf(n.op) !== undefined && n.outputs.length === 1;

/** The node's kernel plan for the target with its fused prologue and epilogue (undefined: the WGSL refuses them). */
export function nodePlan(g: Graph, n: Node, target: Target) {
  let plan: KernelPlan | undefined = getOp(n.op).kernel(opShapes(g, n), n.attrs, target);
  if (n.prologue?.length) plan = withPrologues(plan, n.prologue, (p) => p.args.map((a) => g.tensor(n.inputs[a]).shape), target);
  if (plan && n.epilogue?.length) plan = withEpilogue(plan, n.epilogue);
  return plan;
}

/**
 * Folds a pointwise op that allows it (relu_backward), or an op with a gather for its shapes
 * (maxpool2d_backward), into every kernel reading its result when all of them can rewrite their
 * loads: the two matmuls of a linear's backward read the gradient and the relu's output instead of
 * the masked gradient, BN's backward the pooled gradient and argmax instead of the unpooled one.
 */
export function fusePrologues(g: Graph, target: Target): Graph {
  const consumers = g.consumers();
  const named = new Set(g.outputs.values());
  const rewritten = new Map<number, Node>();
  const folded = new Set<number>();
  for (const r of g.nodes) {
    const d = r.outputs[0];
    const gather = gatherOf(r, r.inputs.map((i) => g.tensor(i).shape), target) !== undefined;
    if (!(pointwiseOf(r.op)?.prologue || gather) || named.has(d) || consumers[d].length === 0) continue;
    const candidates = new Map<number, Node>();
    const ok = consumers[d].every((id) => {
      const reader = rewritten.get(id) ?? g.nodes[id];
      const slot = reader.inputs.indexOf(d);
      if (isPointwise(reader) || reader.stage !== r.stage || reader.inputs.lastIndexOf(d) !== slot) return false;
      // The op's first argument takes the slot's binding; the others are read as extra inputs.
      const inputs = [...reader.inputs, ...r.inputs.slice(1)];
      inputs[slot] = r.inputs[0];
      const args = r.inputs.map((_, j) => (j === 0 ? slot : reader.inputs.length + j - 1));
      const prologue = { input: slot, op: r.op, args, ...(gather ? { attrs: r.attrs } : {}) };
      const candidate: Node = { ...reader, inputs, prologue: [...(reader.prologue ?? []), prologue] };
      candidates.set(id, candidate);
      return nodePlan(g, candidate, target) !== undefined;
    });
    if (!ok) continue;
    folded.add(r.id);
    for (const [id, n] of candidates) rewritten.set(id, n);
  }
  return rebuilt(g, rewritten, folded);
}

/**
 * Folds a unary pointwise op (relu) into the stores of its producer when it is the producer's only
 * reader: conv→relu, linear→relu and batchnorm (its apply program)→relu become one kernel each.
 */
export function fuseEpilogues(g: Graph, target: Target): Graph {
  return absorbReaders(g, target, (producer, reader) =>
    !isPointwise(producer) && canEpilogue(reader.op) && reader.inputs.length === 1
      ? { ...producer, outputs: [reader.outputs[0], ...producer.outputs.slice(1)], epilogue: [...(producer.epilogue ?? []), reader.op] }
      : undefined,
  );
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

/** g without the `dropped` nodes, with the `rewritten` ones in their place. */
function rebuilt(g: Graph, rewritten: Map<number, Node>, dropped: Set<number>): Graph {
  const out = copyLeaves(g);
  for (const n of g.nodes) if (!dropped.has(n.id)) out.nodes.push({ ...(rewritten.get(n.id) ?? n), id: out.nodes.length });
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
