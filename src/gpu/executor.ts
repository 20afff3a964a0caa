// The executor of every kernel graph (a training step, feature extraction, a probe, a vote): its
// buffers created once from the plan, its pipelines, uniforms and bind groups built once, and every
// dispatch recorded into one command encoder. Per-step scalars go into the one step uniform.
import type { KernelGraph } from '../compiler/kernel-graph.js';
import { STEP_DEFAULTS, stepWords, type StepScalars } from '../kernels/op.js';
import { Rng } from '../data/rng.js';
import type { Runtime } from './runtime.js';

export interface ExecutorOptions {
  /** Initial values by name (views, params, state); others start from their fill or random bound. */
  initial?: Record<string, ArrayLike<number>>;
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
    private readonly owned: GPUBuffer[],
    /** Each kernel's dispatches, in kernel order. */
    private readonly kernels: Recorded[][],
  ) {}

  static async create(rt: Runtime, graph: KernelGraph, options: ExecutorOptions = {}): Promise<StepExecutor> {
    let seed = options.seed ?? 0;
    const buffers = graph.buffers.map((b) => {
      if (b.kind === 'step') {
        const buffer = rt.uniformBuffer(b.bytes, 'step');
        const words = stepWords(STEP_DEFAULTS);
        rt.writeUniform(buffer, words.values, words.types);
        return buffer;
      }
      const buffer = rt.buffer(b.bytes, b.name ?? `temp ${b.id}`);
      const given = b.name !== undefined ? options.initial?.[b.name] : undefined;
      if (given) {
        writeChecked(rt, buffer, b.name!, b.bytes, given);
      } else if (b.fill !== undefined) {
        rt.write(buffer, new Float32Array(b.bytes / 4).fill(b.fill));
      } else if (b.bound !== undefined) {
        rt.write(buffer, uniformInit(b.bytes / 4, b.bound, ++seed));
      }
      return buffer;
    });
    const pipelines = await Promise.all(graph.shaders.map((code, i) => rt.pipeline(code, labelOf(graph, i))));
    const owned: GPUBuffer[] = [];
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
    return new StepExecutor(rt, graph, buffers, owned, kernels);
  }

  /** Replaces a named buffer's contents (a step's source images or views, or a checkpoint's params). */
  write(name: string, data: ArrayLike<number> | Uint8Array | Uint32Array): void {
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`no buffer named ${name}`);
    writeChecked(this.rt, this.buffers[b.id], name, b.bytes, data);
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
    const out = this.graph.outputs[name];
    if (out) return this.buffers[out.buffer];
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`no buffer named ${name}`);
    return this.buffers[b.id];
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
    for (const b of this.buffers) b.destroy();
    for (const u of this.owned) u.destroy();
  }
}

/** f32 values for an f32 buffer; bytes or words are written as they are (packed images, labels). */
function writeChecked(rt: Runtime, buffer: GPUBuffer, name: string, bytes: number, data: ArrayLike<number> | Uint8Array | Uint32Array): void {
  if (data instanceof Uint8Array || data instanceof Uint32Array) {
    if (data.byteLength > bytes) throw new Error(`${name}: ${data.byteLength} bytes for a buffer of ${bytes}`);
    // Queue writes go in whole words; a u8 tensor's buffer is already rounded up to them.
    const whole = data.byteLength % 4 ? new Uint8Array(Math.ceil(data.byteLength / 4) * 4) : data;
    if (whole !== data) (whole as Uint8Array).set(data);
    rt.write(buffer, whole);
    return;
  }
  if (data.length * 4 !== bytes) throw new Error(`${name}: ${data.length} values for a buffer of ${bytes / 4}`);
  rt.write(buffer, Float32Array.from(data));
}

function labelOf(graph: KernelGraph, shader: number): string {
  for (const k of graph.kernels) for (const d of k.dispatches) if (d.shader === shader) return d.label;
  return `shader ${shader}`;
}

/** U(±bound), seeded, so the same spec and seed start from the same weights. */
function uniformInit(count: number, bound: number, seed: number): Float32Array {
  const rng = new Rng((seed * 0x9e3779b9) >>> 0);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bound * (2 * rng.next() - 1);
  return out;
}
