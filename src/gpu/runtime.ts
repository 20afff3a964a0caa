// Buffers, a pipeline cache keyed by WGSL source, and a batched executor: every dispatch of a step
// is recorded into one command encoder, submitted once, and only what must be read is read back.
import { createHash } from 'node:crypto';
import type { Gpu } from './device.js';
import type { Target } from '../kernels/op.js';
import { rememberTarget } from './known-target.js';

export type HostArray = Float32Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** Read-back buffers up to this size are kept for reuse. */
const POOLED_STAGING = 1 << 20;
const STORAGE = 0x80 | 0x08 | 0x04; // STORAGE | COPY_DST | COPY_SRC
const UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST

export interface Dispatch {
  pipeline: GPUComputePipeline;
  /** A bind group made once with `bindGroup`, or the buffers to make one from now. */
  bindings: GPUBindGroup | GPUBuffer[];
  groups: [number, number?, number?];
}

export class Runtime {
  readonly device: GPUDevice;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private uncaptured: string[] = [];
  private readonly freeStaging: GPUBuffer[] = [];
  private lostReason: string | undefined;
  private live = 0;
  private peak = 0;

  constructor(readonly gpu: Gpu) {
    this.device = gpu.device;
    this.device.addEventListener('uncapturederror', (event) => {
      this.uncaptured.push((event as GPUUncapturedErrorEvent).error.message);
    });
    void this.device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  get limits(): Record<string, number> {
    return this.gpu.adapter.limits;
  }

  /** What kernels specialise on for this adapter. */
  get target(): Target {
    const limits = this.limits;
    return {
      isSoftware: this.gpu.adapter.isSoftware,
      hasF16: this.gpu.hasF16,
      maxWorkgroupInvocations: limits.maxComputeInvocationsPerWorkgroup ?? 256,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? 128 << 20,
      maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension ?? 65535,
      maxBufferSize: limits.maxBufferSize,
    };
  }

  /** One pipeline per distinct WGSL source; creation errors carry the shader's own message. */
  async pipeline(code: string, label = 'kernel'): Promise<GPUComputePipeline> {
    const key = createHash('sha1').update(code).digest('hex');
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label });
    const layout = explicitLayout(this.device, code, label);
    const pipeline = await this.device.createComputePipelineAsync({ layout, label, compute: { module, entryPoint: 'main' } }).catch(
      (err: Error) => err,
    );
    const error = await this.device.popErrorScope();
    if (error || pipeline instanceof Error) {
      const message = error?.message ?? (pipeline as Error).message;
      throw new GpuError(`kernel ${label} does not compile:\n${message}\n--- WGSL ---\n${numbered(code)}`);
    }
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Device memory as measured, not planned: the bytes of every buffer created through this runtime
   * (storage, uniforms, staging, query resolves) and not yet destroyed, and the most that were live
   * at once since the runtime began or the last `resetPeak`.
   */
  get memory(): { liveBytes: number; peakBytes: number } {
    return { liveBytes: this.live, peakBytes: this.peak };
  }

  /** Starts a new peak from what is live now (a bench measures one step's peak, not the process's). */
  resetPeak(): void {
    this.peak = this.live;
  }

  /** Every buffer is made here, so the live count sees it; its destroy gives the bytes back once. */
  private createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = this.device.createBuffer(descriptor);
    const size = buffer.size;
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    const destroy = buffer.destroy;
    let freed = false;
    buffer.destroy = () => {
      if (!freed) {
        freed = true;
        this.live -= size;
      }
      destroy.call(buffer);
    };
    return buffer;
  }

  buffer(bytes: number, label?: string): GPUBuffer {
    return this.createBuffer({ size: align4(Math.max(bytes, 4)), usage: STORAGE, label });
  }

  upload(data: HostArray, label?: string): GPUBuffer {
    const buffer = this.buffer(data.byteLength, label);
    this.write(buffer, data);
    return buffer;
  }

  write(buffer: GPUBuffer, data: HostArray, byteOffset = 0): void {
    const padded = data.byteLength % 4 === 0 ? data : padTo4(data);
    this.device.queue.writeBuffer(buffer, byteOffset, padded.buffer, padded.byteOffset, padded.byteLength);
  }

  /** Shapes and scalars travel in uniforms so one pipeline serves every shape. */
  uniform(values: ArrayLike<number>, types: 'u32' | 'f32' | ('u32' | 'f32')[] = 'u32', label?: string): GPUBuffer {
    const words = uniformWords(values, types);
    const buffer = this.createBuffer({ size: words.byteLength, usage: UNIFORM, label });
    this.device.queue.writeBuffer(buffer, 0, words);
    return buffer;
  }

  /** Records a dispatch; nothing runs until `submit` or a read. */
  dispatch({ pipeline, bindings, groups }: Dispatch): void {
    const limit = this.limits.maxComputeWorkgroupsPerDimension ?? 65535;
    const [x, y = 1, z = 1] = groups;
    if (x > limit || y > limit || z > limit) throw new GpuError(`dispatch ${pipeline.label} of ${x}×${y}×${z} workgroups exceeds the adapter's ${limit} per dimension`);
    if (x === 0 || y === 0 || z === 0) return;
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    const group = Array.isArray(bindings) ? this.bindGroup(pipeline, bindings) : bindings;
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(x, y, z);
  }

  /** The pipeline's bindings as one group, made once and reused by every dispatch of it. */
  bindGroup(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
    const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  }

  /** A uniform buffer of `bytes`, written later with `writeUniform`. */
  uniformBuffer(bytes: number, label?: string): GPUBuffer {
    return this.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: UNIFORM, label });
  }

  writeUniform(buffer: GPUBuffer, values: ArrayLike<number>, types: 'u32' | 'f32' | ('u32' | 'f32')[] = 'u32'): void {
    this.device.queue.writeBuffer(buffer, 0, uniformWords(values, types));
  }

  /**
   * Dispatches recorded inside `fn` run in a compute pass of their own whose start and end times go
   * into `querySet` at 2·index and 2·index + 1 (the adapter's timestamp-query feature).
   */
  timed(querySet: GPUQuerySet, index: number, fn: () => void): void {
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.pass = this.encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 } });
    fn();
    this.endPass();
  }

  /** The nanosecond timestamps of a query set, resolved and read back. */
  async readTimestamps(querySet: GPUQuerySet, count: number): Promise<BigUint64Array> {
    const resolved = this.createBuffer({ size: count * 8, usage: 0x200 | 0x04 }); // QUERY_RESOLVE | COPY_SRC
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    const bytes = await this.read(resolved, count * 8);
    resolved.destroy();
    return new BigUint64Array(bytes);
  }

  copy(from: GPUBuffer, to: GPUBuffer, bytes: number, fromOffset = 0, toOffset = 0): void {
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(from, fromOffset, to, toOffset, align4(bytes));
  }

  submit(): void {
    this.endPass();
    if (this.encoder) this.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
  }

  /** Waits for all submitted work; raises any validation error or device loss seen meanwhile. */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.raise();
  }

  async read(buffer: GPUBuffer, bytes = buffer.size, offset = 0): Promise<ArrayBuffer> {
    const size = align4(bytes);
    const staging = this.takeStaging(size);
    this.copy(buffer, staging, size, offset);
    this.submit();
    try {
      await staging.mapAsync(0x0001); // READ
      const out = staging.getMappedRange().slice(0, bytes);
      staging.unmap();
      return out;
    } finally {
      if (staging.size <= POOLED_STAGING) this.freeStaging.push(staging);
      else staging.destroy();
      this.raise();
    }
  }

  /**
   * A mappable buffer of at least `size` bytes: small reads made every step (the loss, a batch's
   * logits) reuse the same few instead of creating one each; reads in flight at once each hold
   * their own. Large one-off reads (a whole data set's features) get a buffer of their own.
   */
  private takeStaging(size: number): GPUBuffer {
    let pick = -1;
    this.freeStaging.forEach((b, i) => {
      if (b.size >= size && (pick < 0 || b.size < this.freeStaging[pick].size)) pick = i;
    });
    if (pick >= 0) return this.freeStaging.splice(pick, 1)[0];
    const bytes = size <= POOLED_STAGING ? Math.max(256, 2 ** Math.ceil(Math.log2(size))) : size;
    return this.createBuffer({ size: bytes, usage: 0x01 | 0x08 }); // MAP_READ | COPY_DST
  }

  async readF32(buffer: GPUBuffer, count?: number): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count === undefined ? buffer.size : count * 4));
  }

  async readU32(buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, count === undefined ? buffer.size : count * 4));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  private raise(): void {
    if (this.lostReason) throw new GpuError(`the WebGPU device was lost (${this.lostReason})`);
    if (this.uncaptured.length) {
      const messages = this.uncaptured.splice(0);
      throw new GpuError(`WebGPU reported ${messages.length} error(s):\n${messages.join('\n')}`);
    }
  }
}

const BINDING = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage)\s*(?:,\s*(read_write|read)\s*)?>/g;

/**
 * The layout of every binding the WGSL declares, used or not: 'auto' would drop a binding the
 * entry point never touches (a pipeline without random ops ignores its params), and the bind group
 * the caller passes would then fail validation.
 */
function explicitLayout(device: GPUDevice, code: string, label: string): GPUPipelineLayout | 'auto' {
  const entries: GPUBindGroupLayoutEntry[] = [...code.matchAll(BINDING)].map(([, binding, space, access]) => ({
    binding: Number(binding),
    visibility: 0x4, // COMPUTE
    buffer: { type: space === 'uniform' ? 'uniform' : access === 'read_write' ? 'storage' : 'read-only-storage' },
  }));
  if (!entries.length) return 'auto';
  const group = device.createBindGroupLayout({ entries, label });
  return device.createPipelineLayout({ bindGroupLayouts: [group], label });
}

/** Uniform contents: 4-byte words, u32 unless typed f32, padded to a multiple of 16 bytes. */
export function uniformWords(values: ArrayLike<number>, types: 'u32' | 'f32' | ('u32' | 'f32')[] = 'u32'): ArrayBuffer {
  const words = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const u = new Uint32Array(words);
  const f = new Float32Array(words);
  for (let i = 0; i < values.length; i++) {
    if ((Array.isArray(types) ? types[i] : types) === 'f32') f[i] = values[i];
    else u[i] = values[i] >>> 0;
  }
  return words;
}

export function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

function padTo4(data: HostArray): Uint8Array {
  const out = new Uint8Array(align4(data.byteLength));
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}

function numbered(code: string): string {
  return code
    .split('\n')
    .map((line, i) => `${String(i + 1).padStart(4)}  ${line}`)
    .join('\n');
}

let shared: Promise<Runtime> | undefined;

/** The process-wide runtime over the process-wide device. */
export async function runtime(): Promise<Runtime> {
  const { acquireGpu } = await import('./device.js');
  shared ??= acquireGpu().then((gpu) => {
    const rt = new Runtime(gpu);
    const a = gpu.adapter;
    rememberTarget(rt.target, `${a.description || a.device} (${a.isSoftware ? 'software' : 'hardware'})`);
    return rt;
  });
  return shared;
}
