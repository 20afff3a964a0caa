// The step executor: a kernel graph's buffers created once from the plan, its pipelines and uniforms
// built once, and every dispatch of a step recorded into one command encoder; only the loss is read.
import type { KernelGraph } from '../compiler/kernel-graph.js';
import { getOp, type Attrs } from '../kernels/op.js';
import { Rng } from '../data/rng.js';
import { uniformWords, type Runtime } from './runtime.js';

export interface ExecutorOptions {
  /** Initial values by name (views, params, state); others start from their fill or random bound. */
  initial?: Record<string, ArrayLike<number>>;
  /** Seed of the uniform initialisation of params without given values. */
  seed?: number;
}

export class StepExecutor {
  private constructor(
    private readonly rt: Runtime,
    readonly graph: KernelGraph,
    private readonly buffers: GPUBuffer[],
    private readonly pipelines: GPUComputePipeline[],
    private readonly uniforms: (GPUBuffer | undefined)[][],
  ) {}

  static async create(rt: Runtime, graph: KernelGraph, options: ExecutorOptions = {}): Promise<StepExecutor> {
    let seed = options.seed ?? 0;
    const buffers = graph.buffers.map((b) => {
      const buffer = rt.buffer(b.bytes, b.name ?? `temp ${b.id}`);
      const given = b.name !== undefined ? options.initial?.[b.name] : undefined;
      if (given) {
        if (given.length * 4 !== b.bytes) throw new Error(`${b.name}: ${given.length} values for a buffer of ${b.bytes / 4}`);
        rt.write(buffer, Float32Array.from(given));
      } else if (b.fill !== undefined) {
        rt.write(buffer, new Float32Array(b.bytes / 4).fill(b.fill));
      } else if (b.bound !== undefined) {
        rt.write(buffer, uniformInit(b.bytes / 4, b.bound, ++seed));
      }
      return buffer;
    });
    const pipelines = await Promise.all(graph.shaders.map((code, i) => rt.pipeline(code, labelOf(graph, i))));
    const uniforms = graph.kernels.map((k) => k.dispatches.map((d) => (d.params ? rt.uniform(d.params.values, d.params.types ?? 'u32', d.label) : undefined)));
    return new StepExecutor(rt, graph, buffers, pipelines, uniforms);
  }

  /** Replaces a named buffer's contents (the views before a step, or a checkpoint's params). */
  write(name: string, data: ArrayLike<number>): void {
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`no buffer named ${name}`);
    if (data.length * 4 !== b.bytes) throw new Error(`${name}: ${data.length} values for a buffer of ${b.bytes / 4}`);
    this.rt.write(this.buffers[b.id], Float32Array.from(data));
  }

  /**
   * Changes attributes of every kernel of a phase (the optimizer's lr and step, per step): each
   * kernel is re-planned and only its uniforms are rewritten; the WGSL must stay the same.
   */
  setAttrs(phase: 'forward' | 'backward' | 'update', patch: Attrs): void {
    const target = this.rt.target;
    this.graph.kernels.forEach((k, ki) => {
      if (k.phase !== phase) return;
      k.attrs = { ...k.attrs, ...patch };
      const plan = getOp(k.op).kernel(k.shapes, k.attrs, target);
      plan.programs.forEach((p, di) => {
        const uniform = this.uniforms[ki][di];
        if (!uniform || !p.params) return;
        k.dispatches[di].params = p.params;
        this.rt.device.queue.writeBuffer(uniform, 0, uniformWords(p.params.values, p.params.types));
      });
    });
  }

  /** The device buffer behind a named tensor, for work recorded around the step (augmentation). */
  buffer(name: string): GPUBuffer {
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`no buffer named ${name}`);
    return this.buffers[b.id];
  }

  /** Names of the buffers a checkpoint holds: every param and state tensor. */
  get persistentNames(): string[] {
    return this.graph.buffers.filter((b) => b.name !== undefined && (b.kind === 'param' || b.kind === 'state')).map((b) => b.name!);
  }

  /** Records every dispatch of the step into the runtime's one open encoder. */
  record(): void {
    this.graph.kernels.forEach((k, ki) =>
      k.dispatches.forEach((d, di) => {
        const bindings = d.buffers.map((id) => this.buffers[id]);
        const uniform = this.uniforms[ki][di];
        if (uniform) bindings.unshift(uniform);
        this.rt.dispatch({ pipeline: this.pipelines[d.shader], bindings, groups: d.groups });
      }),
    );
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
    for (const list of this.uniforms) for (const u of list) u?.destroy();
  }
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
