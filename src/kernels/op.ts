// The one shape every op takes: a shape rule, a float64 CPU reference, a WGSL kernel plan and a
// gradient rule that emits more ops. Forward, backward and reference of an op live in one file.
export type Shape = number[];
export type Attrs = Record<string, unknown>;

/** What a kernel may specialise on: CPU rasterisers (lavapipe) and discrete GPUs want other variants. */
export interface Target {
  isSoftware: boolean;
  hasF16: boolean;
  maxWorkgroupInvocations: number;
  maxStorageBufferBindingSize: number;
  maxWorkgroupsPerDimension: number;
}

export const SOFTWARE_TARGET: Target = {
  isSoftware: true,
  hasF16: false,
  maxWorkgroupInvocations: 256,
  maxStorageBufferBindingSize: 128 << 20,
  maxWorkgroupsPerDimension: 65535,
};

/**
 * One GPU program of an op. When `params` is given it is bound at binding 0 as a uniform (shapes and
 * scalars live there so one pipeline serves many shapes); `bindings` follow in order.
 */
export interface Program {
  label: string;
  code: string;
  groups: [number, number?, number?];
  params?: { values: number[]; types?: ('u32' | 'f32')[] };
  /** 'in:K' the op's K-th input, 'out:K' its K-th output, 'tmp:K' its K-th scratch buffer. */
  bindings: string[];
}

export interface KernelPlan {
  programs: Program[];
  /** Bytes of each scratch buffer the programs share (live only during this op). */
  scratchBytes?: number[];
}

/** A value in whatever graph is being differentiated; gradient rules only read `shape`. */
export interface Value {
  id: number;
  shape: Shape;
}

export interface GradContext<A extends Attrs = Attrs> {
  inputs: Value[];
  outputs: Value[];
  /** ∂L/∂output for each output; undefined where no gradient flows. */
  grads: (Value | undefined)[];
  attrs: A;
  emit(op: string, inputs: Value[], attrs?: Attrs): Value[];
}

export interface OpDef<A extends Attrs = Attrs> {
  name: string;
  shape(inputs: Shape[], attrs: A): Shape[];
  reference(inputs: Float64Array[], shapes: Shape[], attrs: A): Float64Array[];
  kernel(shapes: Shape[], attrs: A, target: Target): KernelPlan;
  /** ∂L/∂input for each input (undefined: none, e.g. an integer index or a constant). */
  grad?(ctx: GradContext<A>): (Value | undefined)[];
  flops?(shapes: Shape[], attrs: A): number;
  /** Outputs that are written into an input's buffer (optimizer updates, running stats): output → input. */
  inplace?: Record<number, number>;
}

const registry = new Map<string, OpDef>();

export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
  registry.set(def.name, def as unknown as OpDef);
  return def;
}

export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown op ${name}; known: ${[...registry.keys()].sort().join(', ')}`);
  return def;
}

export function opNames(): string[] {
  return [...registry.keys()].sort();
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}
