// Gradient checkpointing as a graph rewrite: the backward pass reads no tensor from inside an
// encoder layer; the layer's forward nodes are cloned just before the first backward node that
// needs them and recompute those tensors from the layer's input, so only layer boundaries stay live.
import { Graph, type Node } from './graph.js';

/** Top-level layers under `prefix` ('encoder.layers') become recomputed segments. */
export function checkpointSegments(g: Graph, prefix: string): Graph {
  return recomputeSegments(g, (n) => {
    if (n.stage !== 'forward' || !n.path.startsWith(`${prefix}.`)) return undefined;
    return n.path.slice(prefix.length + 1).split('.')[0];
  });
}

/**
 * The rewrite itself, over any grouping of forward nodes into segments (`segmentOf` names a forward
 * node's segment, undefined for nodes whose outputs stay live): layers here, chunks of images in
 * src/ir/chunk.ts.
 */
export function recomputeSegments(g: Graph, segmentOf: (n: Node) => string | undefined): Graph {
  const segments = new Map<string, Node[]>();
  for (const n of g.nodes) {
    const s = segmentOf(n);
    if (s !== undefined) segments.set(s, [...(segments.get(s) ?? []), n]);
  }
  // A segment's inside: every activation its nodes make that only the segment itself and the
  // backward pass read. Per-channel statistics (rank ≤ 1) are too small to be worth recomputing.
  const inside = new Map<number, string>();
  const readers = g.consumers();
  for (const [s, nodes] of segments) {
    const ids = new Set(nodes.map((n) => n.id));
    for (const n of nodes) {
      for (const o of n.outputs) {
        const leaves = readers[o].some((r) => g.nodes[r].stage === 'forward' && !ids.has(r));
        if (!leaves && !isNamed(g, o) && g.tensor(o).shape.length > 1) inside.set(o, s);
      }
    }
  }

  const out = new Graph();
  for (const t of g.tensors) out.tensors.push({ ...t, producer: undefined });
  for (const [name, id] of g.outputs) out.outputs.set(name, id);
  const recomputed = new Map<string, Map<number, number>>();
  const push = (n: Omit<Node, 'id'>) => {
    const id = out.nodes.length;
    out.nodes.push({ ...n, id });
    for (const o of n.outputs) out.tensors[o].producer = id;
  };
  const recompute = (s: string): Map<number, number> => {
    const done = recomputed.get(s);
    if (done) return done;
    const map = new Map<number, number>();
    for (const n of segments.get(s)!) {
      const outputs = n.outputs.map((o) => {
        const copy = out.tensors.length;
        out.tensors.push({ ...out.tensors[o], id: copy });
        map.set(o, copy);
        return copy;
      });
      const inputs = n.inputs.map((i) => map.get(i) ?? i);
      // The recomputation must not move BatchNorm's running statistics a second time: it updates
      // a throwaway pair instead (inputs 3 and 4, written in place).
      if (n.op === 'batchnorm') {
        for (const k of [3, 4]) inputs[k] = out.leaf('state', out.tensors[inputs[k]].shape, n.path, { fill: 0 }).id;
      }
      push({ ...n, inputs, outputs, stage: 'backward' });
    }
    recomputed.set(s, map);
    return map;
  };
  for (const n of g.nodes) {
    // A segment's own nodes run as they are the first time (a chunk's augmentation is not forward
    // but is in its chunk's segment: it must not trigger the recomputation of its own segment).
    if (n.stage === 'forward' || segmentOf(n) !== undefined) {
      push(n);
      continue;
    }
    const inputs = n.inputs.map((i) => {
      const s = inside.get(i);
      return s === undefined ? i : recompute(s).get(i)!;
    });
    push({ ...n, inputs });
  }
  return out;
}

function isNamed(g: Graph, id: number): boolean {
  for (const v of g.outputs.values()) if (v === id) return true;
  return false;
}
