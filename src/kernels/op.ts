// The one shape every op takes: a shape rule, a float64 CPU reference, a WGSL kernel plan and a
// gradient rule that emits more ops. Forward, backward and reference of an op live in one file.
export type Shape = number[];
export type Attrs = Record<string, unknown>;
/** Element types of graph tensors: f32 by default; u8 images travel packed four to a u32 word. */
export type DType = 'f32' | 'f16' | 'u32' | 'u8';

const DTYPE_BYTES: Record<DType, number> = { f32: 4, f16: 2, u32: 4, u8: 1 };

/** Bytes a tensor of this shape and type occupies on the device, rounded up to whole words. */
export function tensorBytes(shape: Shape, dtype: DType = 'f32'): number {
  return Math.max(4, Math.ceil((DTYPE_BYTES[dtype] * numel(shape)) / 4) * 4);
}

/**
 * Scalars that change every step of a phase, written into one small uniform before each step so
 * nothing is re-planned: the scheduled learning rate, the 1-based step, the augmentation seed, the
 * loss scale, and the optimizer's bias corrections (1 − β₁ᵗ, 1 − β₂ᵗ) folded on the host in float64.
 */
export interface StepScalars {
  lr: number;
  step: number;
  seed: number;
  loss_scale: number;
  bias1: number;
  bias2: number;
}

export const STEP_DEFAULTS: StepScalars = { lr: 0, step: 1, seed: 0, loss_scale: 1, bias1: 1, bias2: 1 };

/** The per-step uniform's words, in STEP_STRUCT's field order (8 words = 32 bytes). */
export function stepWords(s: StepScalars): { values: number[]; types: ('u32' | 'f32')[] } {
  return {
    values: [s.lr, s.step, s.seed, s.loss_scale, s.bias1, s.bias2, 0, 0],
    types: ['f32', 'u32', 'u32', 'f32', 'f32', 'f32', 'u32', 'u32'],
  };
}

export const STEP_BYTES = 32;

/** WGSL of the per-step uniform, for a program that lists 'step' among its bindings at `binding`. */
export function stepDecl(binding: number, name = 's'): string {
  return `struct Step { lr: f32, step: u32, seed: u32, loss_scale: f32, bias1: f32, bias2: f32, _p0: u32, _p1: u32 }
@group(0) @binding(${binding}) var<uniform> ${name}: Step;`;
}

/** What a kernel may specialise on: CPU rasterisers (lavapipe) and discrete GPUs want other variants. */
export interface Target {
  isSoftware: boolean;
  hasF16: boolean;
  maxWorkgroupInvocations: number;
  maxStorageBufferBindingSize: number;
  maxWorkgroupsPerDimension: number;
  /** The largest buffer the device creates (where known): chunking keeps every buffer below it. */
  maxBufferSize?: number;
}

export const SOFTWARE_TARGET: Target = {
  isSoftware: true,
  hasF16: false,
  maxWorkgroupInvocations: 256,
  maxStorageBufferBindingSize: 128 << 20,
  maxWorkgroupsPerDimension: 65535,
  maxBufferSize: 2 ** 32 - 1,
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
  /**
   * 'in:K' the op's K-th input, 'out:K' its K-th output, 'tmp:K' its K-th scratch buffer, 'step'
   * the phase's per-step uniform (declared with stepDecl).
   */
  bindings: string[];
}

export interface KernelPlan {
  programs: Program[];
  /** Bytes of each scratch buffer the programs share (live only during this op). */
  scratchBytes?: number[];
  /**
   * Scratch buffers that hold a copy of an input binding's elements (a convolution's zero-padded
   * input), f32 as planned: they take that input's element type, so an f16 activation's copy is f16
   * at half the bytes.
   */
  scratchCopies?: Record<number, string>;
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

/**
 * An op that maps same-sized inputs to one output element by element, out[i] = f(in0[i], in1[i], …),
 * written as an expression so the compiler can evaluate it inside other kernels: a unary one in its
 * producer's stores (epilogue), any one in a chain of pointwise ops (fused_elementwise), and, when
 * `prologue` says so, in the loads of the kernels reading its result.
 */
export interface Pointwise {
  /**
   * The result from its arguments' WGSL expressions, of `type` (f32, or vec4<f32> in vector stores).
   * An argument may be any expression (a producer's stored `acc + bias`): parenthesize it inside operators.
   */
  wgsl(args: string[], type: 'f32' | 'vec4<f32>'): string;
  /** The same in float64: the op's reference is this at every element. */
  f64(args: number[]): number;
  /**
   * Cheap enough to recompute at every load of a reader that loads an element many times (a
   * matmul's operand): relu_backward's select, not an exp.
   */
  prologue?: boolean;
}

export interface OpDef<A extends Attrs = Attrs> {
  name: string;
  shape(inputs: Shape[], attrs: A): Shape[];
  /** `step` holds the per-step scalars for ops that read them (optimizer updates, augmentation draws). */
  reference(inputs: Float64Array[], shapes: Shape[], attrs: A, step?: StepScalars): Float64Array[];
  kernel(shapes: Shape[], attrs: A, target: Target): KernelPlan;
  /** ∂L/∂input for each input (undefined: none, e.g. an integer index or a constant). */
  grad?(ctx: GradContext<A>): (Value | undefined)[];
  flops?(shapes: Shape[], attrs: A): number;
  /** Output element types where not f32 (an op producing packed or half-precision data). */
  dtypes?(inputs: Shape[], attrs: A): (DType | undefined)[];
  /** Outputs that are written into an input's buffer (optimizer updates, running stats): output → input. */
  inplace?: Record<number, number>;
  /** Declared by elementwise ops the compiler may fuse into other kernels. */
  pointwise?: Pointwise;
  /** Ops that attrs the compiler's fusion set make this op compute too (batchnorm's pool), for kernel labels. */
  absorbed?(attrs: A): string[];
  /** Where output 0 is cheap to recompute at a reader's every load; undefined for shapes or attrs that are not. */
  gather?(inputs: Shape[], attrs: A, target: Target): Gather | undefined;
}

/**
 * An op whose output element the compiler may recompute inside the kernels reading it, as it does a
 * pointwise prologue's, though its inputs have other shapes: a maxpool's backward without
 * overlapping windows is one argmax compare per element, where writing it out costs a full-size
 * store and a load for each reader's pass.
 */
export interface Gather {
  /** `fn name(i: u32) -> f32`: element i of output 0, from the op's inputs as the arrays `args`. */
  wgsl(name: string, args: string[]): string;
  /**
   * `fn name(i: u32) -> vec4f`: elements i … i + 3 for i a multiple of 4, where the four share work
   * (one window's argmax for two of them): it replaces a reader's aligned 4-vector loader.
   */
  vec4?(name: string, args: string[]): string;
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

/** The op's pointwise expression, when it declares one. */
export function pointwiseOf(name: string): Pointwise | undefined {
  return registry.get(name)?.pointwise;
}

/** The float64 reference of a pointwise op: its expression at every element. */
export function pointwiseReference(p: Pointwise): (inputs: Float64Array[]) => Float64Array[] {
  return (inputs) => [Float64Array.from(inputs[0], (_, i) => p.f64(inputs.map((x) => x[i])))];
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
