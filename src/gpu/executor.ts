// The executor of every kernel graph (a training step, feature extraction, a probe, a vote): its
// buffers created once from the plan, its pipelines, uniforms and bind groups built once, and every
// dispatch recorded into one command encoder. Per-step scalars go into the one step uniform.
import type { KernelGraph } from '../compiler/kernel-graph.js';
import { STEP_DEFAULTS, stepWords, type StepScalars } from '../kernels/op.js';
import { Rng } from '../data/rng.js';
import type { Runtime } from './runtime.js';

export interface ExecutorOptions {
  /**
   * Initial values by name (views, params, state, or a named output's buffer); others start from
   * their fill or random bound.
   */
  initial?: Record<string, ArrayLike<number> | Uint8Array | Uint16Array | Uint32Array>;
  /**
   * Device buffers the caller owns, by name, used instead of new ones: one graph reads another's
   * results in place (a backward op reading its forward's outputs). They are neither filled nor
   * destroyed here.
   */
  bind?: Record<string, GPUBuffer>;
  /** Seed of the uniform initialisation of params without given values. */
  seed?: number;
}

interface Recorded {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  groups: [number, number, number];
}

export class StepExecutor {
  private scalars: StepScalars = { ...STEP_DEFAULTS };

  private constructor(
    private readonly rt: Runtime,
    readonly graph: KernelGraph,
    private readonly buffers: GPUBuffer[],
    /** What destroy() frees: every buffer made here, uniforms included, but none the caller bound. */
    private readonly owned: GPUBuffer[],
    /** Each kernel's dispatches, in kernel order. */
    private readonly kernels: Recorded[][],
    private readonly named: Map<string, number>,
  ) {}

  static async create(rt: Runtime, graph: KernelGraph, options: ExecutorOptions = {}): Promise<StepExecutor> {
    let seed = options.seed ?? 0;
    const owned: GPUBuffer[] = [];
    const named = bufferNames(graph);
    const namesOf = new Map<number, string[]>();
    for (const [name, id] of named) namesOf.set(id, [...(namesOf.get(id) ?? []), name]);
    const buffers = graph.buffers.map((b) => {
      if (b.kind === 'step') {
        const buffer = rt.uniformBuffer(b.bytes, 'step');
        const words = stepWords(STEP_DEFAULTS);
        rt.writeUniform(buffer, words.values, words.types);
        owned.push(buffer);
        return buffer;
      }
      const names = namesOf.get(b.id) ?? [];
      const boundName = names.find((name) => options.bind?.[name]);
      if (boundName) {
        const bound = options.bind![boundName];
        if (bound.size < b.bytes) throw new Error(`${boundName}: a bound buffer of ${bound.size} bytes for ${b.bytes}`);
        return bound;
      }
      const buffer = rt.buffer(b.bytes, b.name ?? `temp ${b.id}`);
      owned.push(buffer);
      const givenName = names.find((name) => options.initial?.[name]);
      if (givenName) {
        writeChecked(rt, buffer, givenName, b.bytes, options.initial![givenName]);
      } else if (b.fill !== undefined) {
        rt.write(buffer, new Float32Array(b.bytes / 4).fill(b.fill));
      } else if (b.bound !== undefined) {
        rt.write(buffer, uniformInit(b.bytes / 4, b.bound, ++seed));
      }
      return buffer;
    });
    const pipelines = await Promise.all(graph.shaders.map((code, i) => rt.pipeline(code, labelOf(graph, i))));
    const kernels = graph.kernels.map((k) =>
      k.dispatches.map((d): Recorded => {
        const bound = d.buffers.map((id) => buffers[id]);
        if (d.params) {
          const u = rt.uniform(d.params.values, d.params.types ?? 'u32', d.label);
          owned.push(u);
          bound.unshift(u);
        }
        const pipeline = pipelines[d.shader];
        return { pipeline, group: rt.bindGroup(pipeline, bound), groups: d.groups };
      }),
    );
    return new StepExecutor(rt, graph, buffers, owned, kernels, named);
  }

  /**
   * Replaces a named buffer's contents (the views before a step, a checkpoint's params, an op's
   * input), or a named output's values (the head of the planned buffer it shares).
   */
  write(name: string, data: ArrayLike<number> | Uint8Array | Uint16Array | Uint32Array): void {
    const id = this.idOf(name);
    const own = this.graph.buffers[id].name === name;
    const out = this.graph.outputs[name];
    const bytes = own || !out ? this.graph.buffers[id].bytes : 4 * out.shape.reduce((a, b) => a * b, 1);
    writeChecked(this.rt, this.buffers[id], name, bytes, data);
  }

  /** The scalars of the next step (learning rate, step, seed…): one small uniform write, no re-plan. */
  setStep(patch: Partial<StepScalars>): void {
    this.scalars = { ...this.scalars, ...patch };
    const b = this.graph.buffers.find((x) => x.kind === 'step');
    if (!b) return;
    const words = stepWords(this.scalars);
    this.rt.writeUniform(this.buffers[b.id], words.values, words.types);
  }

  /** The device buffer behind a named tensor or output, for work recorded around the graph. */
  buffer(name: string): GPUBuffer {
    return this.buffers[this.idOf(name)];
  }

  private idOf(name: string): number {
    const id = this.named.get(name);
    if (id === undefined) throw new Error(`no buffer named ${name}`);
    return id;
  }

  /** Names of the buffers a checkpoint holds: every param and state tensor. */
  get persistentNames(): string[] {
    return this.graph.buffers.filter((b) => b.name !== undefined && (b.kind === 'param' || b.kind === 'state')).map((b) => b.name!);
  }

  /** Records every dispatch of the graph into the runtime's one open encoder. */
  record(): void {
    for (let k = 0; k < this.kernels.length; k++) this.recordKernel(k);
  }

  /** Records the dispatches of kernel `k` alone (a profile times kernels one by one). */
  recordKernel(k: number): void {
    for (const d of this.kernels[k]) this.rt.dispatch({ pipeline: d.pipeline, bindings: d.group, groups: d.groups });
  }

  /** Records dispatch `d` of kernel `k` alone: a data-parallel step stops inside a kernel for a collective. */
  recordDispatch(k: number, d: number): void {
    const r = this.kernels[k][d];
    this.rt.dispatch({ pipeline: r.pipeline, bindings: r.group, groups: r.groups });
  }

  /** The first `count` floats of planned buffer `id` (everything recorded so far runs first). */
  readBuffer(id: number, count: number): Promise<Float32Array> {
    return this.rt.readF32(this.buffers[id], count);
  }

  /** Replaces the head of planned buffer `id`; queued writes run before what is recorded after them. */
  writeBuffer(id: number, data: Float32Array): void {
    this.rt.write(this.buffers[id], data);
  }

  /** One step: views in (when given), every kernel in one submission, the loss back. */
  async step(views?: ArrayLike<number>): Promise<number> {
    if (views) this.write('views', views);
    this.record();
    return (await this.read('loss'))[0];
  }

  /** A named output ('loss', 'z', a param or state after the step) or a named buffer. */
  async read(name: string): Promise<Float32Array> {
    const out = this.graph.outputs[name];
    if (out) return this.rt.readF32(this.buffers[out.buffer], out.shape.reduce((a, b) => a * b, 1));
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`no output or buffer named ${name}`);
    return this.rt.readF32(this.buffers[b.id], b.bytes / 4);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}

/** Buffer ids by name: the named tensors' own buffers, then the named outputs (a single op's out:K). */
function bufferNames(graph: KernelGraph): Map<string, number> {
  const named = new Map<string, number>();
  for (const b of graph.buffers) if (b.name !== undefined) named.set(b.name, b.id);
  for (const [name, out] of Object.entries(graph.outputs)) if (!named.has(name)) named.set(name, out.buffer);
  return named;
}

/** f32 values for an f32 buffer; bytes or words are written as they are (packed images, labels). */
function writeChecked(rt: Runtime, buffer: GPUBuffer, name: string, bytes: number, data: ArrayLike<number> | Uint8Array | Uint16Array | Uint32Array): void {
  if (data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array) {
    if (data.byteLength > bytes) throw new Error(`${name}: ${data.byteLength} bytes for a buffer of ${bytes}`);
    rt.write(buffer, data);
    return;
  }
  if (data.length * 4 !== bytes) throw new Error(`${name}: ${data.length} values for a buffer of ${bytes / 4}`);
  rt.write(buffer, Float32Array.from(data));
}

function labelOf(graph: KernelGraph, shader: number): string {
  for (const k of graph.kernels) for (const d of k.dispatches) if (d.shader === shader) return d.label;
  return `shader ${shader}`;
}

/**
 * The params a fresh executor of `graph` would draw (bound buffers in buffer order, the k-th from
 * seed + k, as `create` does), by name: a data-parallel step, whose graphs order their buffers
 * differently, starts from exactly the weights of the single-process step.
 */
export function initialWeights(graph: KernelGraph, seed = 0): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const b of graph.buffers) {
    if (b.kind === 'step' || b.fill !== undefined || b.bound === undefined) continue;
    const values = uniformInit(b.bytes / 4, b.bound, ++seed);
    if (b.name !== undefined) out[b.name] = values;
  }
  return out;
}

/** U(±bound), seeded, so the same spec and seed start from the same weights. */
function uniformInit(count: number, bound: number, seed: number): Float32Array {
  const rng = new Rng((seed * 0x9e3779b9) >>> 0);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bound * (2 * rng.next() - 1);
  return out;
}
