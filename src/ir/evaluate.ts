// Float64 CPU evaluation of a whole graph through each op's reference: the ground truth the GPU
// executor is checked against, and a way to debug a model without a device.
import { roundHalf } from '../kernels/cast.js';
import { getOp, numel, type StepScalars } from '../kernels/op.js';
import { ownArity, type Graph, type Node } from './graph.js';

/**
 * Runs every node in order. `feeds` gives inputs, params and state by name; state not given starts
 * at its fill value; `step` holds the per-step scalars (learning rate, step, seed) for ops that read
 * them. Returns every tensor's value, indexed by tensor id.
 */
export function evaluate(g: Graph, feeds: Record<string, ArrayLike<number>>, step?: StepScalars): Float64Array[] {
  const values: Float64Array[] = [];
  for (const t of g.tensors) {
    if (t.role === 'value') continue;
    const given = t.name !== undefined ? feeds[t.name] : undefined;
    if (given) {
      if (given.length !== numel(t.shape)) throw new Error(`${t.name}: ${given.length} values for shape [${t.shape}]`);
      values[t.id] = Float64Array.from(given);
    } else if (t.role === 'const' || t.role === 'state') {
      values[t.id] = new Float64Array(numel(t.shape)).fill(t.fill ?? 0);
    } else {
      throw new Error(`no value given for ${t.role} ${t.name ?? t.id}`);
    }
  }
  for (const n of g.nodes) {
    const results = runNode(g, n, n.inputs.map((i) => values[i]), step);
    // An f16 tensor holds what its store rounded to (mixed precision's activations).
    n.outputs.forEach((o, k) => (values[o] = g.tensor(o).dtype === 'f16' ? results[k].map(roundHalf) : results[k]));
  }
  return values;
}

/** One node through its op's reference, with any fused prologue and epilogue applied around it. */
export function runNode(g: Graph, n: Node, args: Float64Array[], step?: StepScalars): Float64Array[] {
  const arity = ownArity(n);
  const ins = args.slice(0, arity);
  for (const p of n.prologue ?? []) {
    ins[p.input] = getOp(p.op).reference(p.args.map((a) => args[a]), p.args.map((a) => g.tensor(n.inputs[a]).shape), p.attrs ?? {})[0];
  }
  const shapes = n.inputs.slice(0, arity).map((i) => g.tensor(i).shape);
  const results = getOp(n.op).reference(ins, shapes, n.attrs, step);
  for (const op of n.epilogue ?? []) results[0] = getOp(op).reference([results[0]], [g.tensor(n.outputs[0]).shape], {})[0];
  return results;
}

/** The named outputs ('loss', 'z', each param's and state's value after the step) of an evaluation. */
export function namedOutputs(g: Graph, values: Float64Array[]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [name, id] of g.outputs) out[name] = values[id];
  return out;
}
