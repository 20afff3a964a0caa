// Scheduling: each optimizer update runs as soon as its gradient exists and the last reader of the
// old weight is done, so a gradient's buffer is free again right away instead of living to the end.
import { getOp } from '../kernels/op.js';
import { inOrder, type Graph, type Node } from '../ir/graph.js';

export function scheduleUpdates(g: Graph): Graph {
  const readers = g.consumers();
  const isUpdate = (id: number) => g.nodes[id].stage === 'update';
  const after = new Map<number, Node[]>();
  const last: Node[] = [];
  for (const u of g.nodes) {
    if (u.stage !== 'update') continue;
    let dep = -1;
    let late = false;
    const depend = (id: number) => {
      if (isUpdate(id)) late = true;
      else dep = Math.max(dep, id);
    };
    for (const i of u.inputs) if (g.tensor(i).producer !== undefined) depend(g.tensor(i).producer!);
    // Nothing may read a tensor after an update overwrote its buffer.
    for (const source of Object.values(getOp(u.op).inplace ?? {})) for (const r of readers[u.inputs[source]]) if (r !== u.id) depend(r);
    if (late || dep < 0) last.push(u);
    else after.set(dep, [...(after.get(dep) ?? []), u]);
  }
  const order: Node[] = [];
  for (const n of g.nodes) {
    if (n.stage === 'update') continue;
    order.push(n, ...(after.get(n.id) ?? []));
  }
  order.push(...last);

  return inOrder(g, order);
}
