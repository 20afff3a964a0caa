// Reverse-mode autodiff: walks the forward nodes backwards and appends each op's gradient rule as
// more nodes of the same graph. Gradients reaching a tensor along several paths are summed with `add`.
import { getOp, type Attrs, type Value } from '../kernels/op.js';
import { fmtShape, type Graph, type Tensor } from './graph.js';

/**
 * Appends ∂loss/∂t for every t in `wrt`; returns them by tensor id. `seed` is ∂L/∂loss where it is
 * not 1: the loss scale of mixed precision (the gradients are then those of the scaled loss), or the
 * gradient of a loss computed elsewhere (a data-parallel step's embeddings, whose gradient comes
 * back from the other processes: `loss` is then any tensor of the seed's shape).
 */
export function appendBackward(g: Graph, loss: Tensor, wrt: Tensor[], seed?: Tensor): Map<number, Tensor> {
  const forward = g.nodes.filter((n) => n.stage === 'forward');
  const needs = new Set(wrt.map((t) => t.id));
  for (const n of forward) if (n.inputs.some((i) => needs.has(i))) for (const o of n.outputs) needs.add(o);
  if (!needs.has(loss.id)) throw new Error('the loss does not depend on any trained parameter');

  const grads = new Map<number, Tensor>();
  if (seed && fmtShape(seed.shape) !== fmtShape(loss.shape)) throw new Error(`the gradient seed ${fmtShape(seed.shape)} does not match ${fmtShape(loss.shape)}`);
  grads.set(loss.id, seed ?? g.leaf('const', loss.shape, loss.path, { fill: 1 }));
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    const outGrads = node.outputs.map((o) => grads.get(o));
    if (!outGrads.some(Boolean) || !node.inputs.some((i) => needs.has(i))) continue;
    const def = getOp(node.op);
    if (!def.grad) throw new Error(`${node.path}: op ${node.op} has no gradient rule`);
    // A chunk's gradient nodes belong to its chunk, so the recompute rewrite and the output see them so.
    const emit = (op: string, inputs: Value[], attrs: Attrs = {}) => {
      const out = g.add(op, inputs, attrs, node.path, 'backward');
      if (node.chunk !== undefined) g.nodes[g.nodes.length - 1].chunk = node.chunk;
      return out;
    };
    const inGrads = def.grad({
      inputs: node.inputs.map((i) => g.tensor(i)),
      outputs: node.outputs.map((o) => g.tensor(o)),
      grads: outGrads,
      attrs: node.attrs,
      emit,
    });
    node.inputs.forEach((i, slot) => {
      const d = inGrads[slot];
      if (!d || !needs.has(i)) return;
      const want = g.tensor(i).shape;
      if (fmtShape(d.shape) !== fmtShape(want)) {
        throw new Error(`${node.path}: gradient rule of ${node.op} gives ${fmtShape(d.shape)} for input ${slot} of shape ${fmtShape(want)}`);
      }
      const sofar = grads.get(i);
      grads.set(i, sofar ? emit('add', [sofar, d])[0] : g.tensor(d.id));
    });
  }

  const out = new Map<number, Tensor>();
  for (const t of wrt) {
    const d = grads.get(t.id);
    if (!d) throw new Error(`${t.path}: parameter ${t.name ?? t.id} receives no gradient from the loss`);
    out.set(t.id, d);
  }
  return out;
}
