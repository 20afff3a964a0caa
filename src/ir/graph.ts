// The one graph type of every stage: tensors and op nodes. Forward layers, their gradients and the
// optimizer's updates are all nodes of it, so lowering, fusion and buffer planning see one program.
import { getOp, type Attrs, type DType, type Shape, type Value } from '../kernels/op.js';

/**
 * input: fed per step (source images, or the views themselves); param: trained weights; state:
 * persistent non-trained tensors (BN running stats, optimizer moments); const: filled with one
 * number; value: computed by a node.
 */
export type Role = 'input' | 'param' | 'state' | 'const' | 'value';
/**
 * Which part of a phase's program a node belongs to: kernel-graph.json labels every kernel with it.
 * augment makes the views, forward/backward/update are the training step, eval the inference graphs
 * (features, similarities, votes), collective the exchanges between processes.
 */
export type Stage = 'augment' | 'forward' | 'backward' | 'update' | 'eval' | 'collective';
export const STAGES: Stage[] = ['augment', 'forward', 'backward', 'update', 'eval', 'collective'];

/** What a parameter is, for optimizers that treat BatchNorm parameters and biases differently. */
export type ParamKind = 'weight' | 'bias' | 'bn_weight' | 'bn_bias';

export interface Tensor extends Value {
  role: Role;
  /** Element type on the device (f32 unless said). */
  dtype?: DType;
  /** Stable name of inputs, params and state ("encoder.layers.0.weight"). */
  name?: string;
  kind?: ParamKind;
  /** Initial value of state, const and BatchNorm tensors. */
  fill?: number;
  /** Trained weights start uniform in ±bound. */
  bound?: number;
  /** The node producing a 'value' tensor and which of its outputs it is. */
  producer?: number;
  /** Spec path of the layer that made it, for errors. */
  path: string;
}

export interface Node {
  id: number;
  op: string;
  inputs: number[];
  outputs: number[];
  attrs: Attrs;
  path: string;
  stage: Stage;
  /** Unary pointwise ops (relu) the compiler folded into this node's store of output 0, in order. */
  epilogue?: string[];
  /** Pointwise ops folded into this node's loads of its inputs. */
  prologue?: Prologue[];
  /** Which chunk of images a chunked step's node computes for (src/ir/chunk.ts). */
  chunk?: number;
}

/**
 * Wherever the node's op reads its input `input`, it sees op(inputs[args[0]], inputs[args[1]], …).
 * `input` is one of args and keeps its binding; the other args come after the op's own inputs.
 */
export interface Prologue {
  input: number;
  op: string;
  args: number[];
  /** The op's attrs, for one with a gather (maxpool2d_backward's window). */
  attrs?: Attrs;
}

/** How many of the node's inputs are its op's own (the rest feed its prologues). */
export function ownArity(n: Node): number {
  return n.inputs.length - (n.prologue ?? []).reduce((a, p) => a + p.args.length - 1, 0);
}

/** A shape rule's rejection, carrying the spec path of the layer it came from. */
export class ShapeError extends Error {
  readonly code = 'E0401';
  constructor(
    readonly path: string,
    readonly op: string,
    detail: string,
  ) {
    super(`${path}: ${op}: ${detail}`);
    this.name = 'ShapeError';
  }

  /** The path as the spec front end's located tree walks it: ['encoder', 'layers', 3, 'body', 1]. */
  get specPath(): (string | number)[] {
    return this.path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  }
}

export class Graph {
  readonly tensors: Tensor[] = [];
  readonly nodes: Node[] = [];
  /** Named results: 'loss', 'z', and for each param/state name its value after the step. */
  readonly outputs = new Map<string, number>();

  tensor(id: number): Tensor {
    const t = this.tensors[id];
    if (!t) throw new Error(`no tensor ${id}`);
    return t;
  }

  leaf(role: Exclude<Role, 'value'>, shape: Shape, path: string, extra: Partial<Tensor> = {}): Tensor {
    const t: Tensor = { id: this.tensors.length, shape: [...shape], role, path, ...extra };
    this.tensors.push(t);
    return t;
  }

  /** Appends a node; its output shapes come from the op's shape rule, whose errors get the spec path. */
  add(op: string, inputs: Value[], attrs: Attrs, path: string, stage: Stage = 'forward'): Tensor[] {
    const shapes = inputs.map((v) => v.shape);
    let outShapes: Shape[];
    try {
      outShapes = getOp(op).shape(shapes, attrs);
    } catch (err) {
      throw new ShapeError(path, op, `${(err as Error).message} (input shapes ${shapes.map(fmtShape).join(', ')})`);
    }
    const id = this.nodes.length;
    const dtypes = getOp(op).dtypes?.(shapes, attrs) ?? [];
    const outputs = outShapes.map((shape, k): Tensor => {
      const t: Tensor = { id: this.tensors.length, shape, role: 'value', producer: id, path, ...(dtypes[k] ? { dtype: dtypes[k] } : {}) };
      this.tensors.push(t);
      return t;
    });
    this.nodes.push({ id, op, inputs: inputs.map((v) => v.id), outputs: outputs.map((t) => t.id), attrs, path, stage });
    return outputs;
  }

  /** Tensors by name: inputs, params and state. */
  named(role?: Role): Tensor[] {
    return this.tensors.filter((t) => t.name !== undefined && (!role || t.role === role));
  }

  byName(name: string): Tensor {
    const t = this.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no tensor named ${name}`);
    return t;
  }

  /** Consumers of each tensor, by node id. */
  consumers(): number[][] {
    const out: number[][] = this.tensors.map(() => []);
    for (const n of this.nodes) for (const i of n.inputs) out[i].push(n.id);
    return out;
  }
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/**
 * Drops nodes none of whose outputs reach a named output (e.g. the gradient of the input views).
 * Returns a new graph with renumbered nodes; tensor ids are kept.
 */
export function pruned(g: Graph): Graph {
  const live = new Set<number>(g.outputs.values());
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (!n.outputs.some((o) => live.has(o))) continue;
    keep[k] = true;
    for (const i of n.inputs) live.add(i);
  }
  return inOrder(g, g.nodes.filter((_, k) => keep[k]));
}

/**
 * `g` with its nodes in the given order (a subset of them drops the rest), renumbered; tensor ids
 * and outputs are kept, and a dropped node's outputs have no producer.
 */
export function inOrder(g: Graph, order: readonly Node[]): Graph {
  const out = new Graph();
  const renumber = new Map<number, number>();
  for (const n of order) {
    renumber.set(n.id, out.nodes.length);
    out.nodes.push({ ...n, id: out.nodes.length });
  }
  for (const t of g.tensors) {
    const producer = t.producer === undefined ? undefined : renumber.get(t.producer);
    out.tensors.push({ ...t, producer });
  }
  for (const [name, id] of g.outputs) out.outputs.set(name, id);
  return out;
}
