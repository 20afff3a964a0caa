// compileAugment: the augment section → WGSL programs (a params kernel and each view's stages);
// recordAugment: records them into the runtime's encoder, so views never visit the host.
import type { Target } from '../kernels/op.js';
import type { Runtime } from '../gpu/runtime.js';
import { stageKernels } from './kernels.js';
import { drawViewRecord, paramLayout, paramsKernel, type CropFrame, type ParamLayout } from './params.js';
import type { DrawKey } from './rng.js';
import { assignBuffers, splitStages, type Stage } from './stages.js';
import { AugmentError, type AugOp, type AugmentSpec, type Fusion, type SourceLayout } from './types.js';

export interface AugProgram {
  label: string;
  code: string;
  /** After the uniform (0) and the params (1): the buffers at bindings 2, 3. */
  bindings: ('source' | 'out' | 'tmp')[];
}

export interface ViewPlan {
  ops: AugOp[];
  stages: Stage[];
  programs: AugProgram[];
  /** Per op: the frame a crop draws its box in (other ops: 'source', unused). */
  frames: CropFrame[];
}

export interface AugmentPlan {
  source: SourceLayout;
  /** Output height and width (the spec's `size` for both). */
  height: number;
  width: number;
  fusion: Fusion;
  layout: ParamLayout;
  paramsCode: string;
  views: [ViewPlan, ViewPlan];
  workgroup: number;
}

export interface CompileOptions {
  fusion?: Fusion;
  /** Output height and width when not square `augment.size` (the primitive tests use others). */
  height?: number;
  width?: number;
}

export function compileAugment(augment: AugmentSpec, source: SourceLayout, target: Target, options: CompileOptions = {}): AugmentPlan {
  const fusion = options.fusion ?? 'fused';
  const height = options.height ?? augment.size;
  const width = options.width ?? augment.size;
  augment.views.forEach((ops, v) => ops.forEach((op, i) => check(op, v, i, source, height, width)));
  const layout = paramLayout(augment.views);
  // Enough threads to cover a small image, few enough that a CPU rasteriser does not idle them.
  const workgroup = target.isSoftware ? 64 : Math.min(256, target.maxWorkgroupInvocations);
  const views = augment.views.map((ops, view): ViewPlan => {
    const stages = splitStages(ops, fusion);
    const buffers = assignBuffers(stages);
    const frames = ops.map((_, i): CropFrame => {
      const stage = stages.find((s) => s.read.kind === 'sample' && s.read.geo.includes(i));
      return stage?.read.kind === 'sample' && stage.read.from === 'image' ? 'view' : 'source';
    });
    const programs = stages.flatMap((stage, k) => {
      const kernels = stageKernels({ ops, view, layout, source, workgroup }, stage);
      const { src, dst } = buffers[k];
      const pair: AugProgram['bindings'] = [src, dst];
      // A blur's horizontal pass reads the current image into the other buffer; its vertical pass comes back.
      if (kernels.length === 2) return [{ ...kernels[0], bindings: [dst, src] }, { ...kernels[1], bindings: pair }];
      return kernels.map((kernel) => ({ ...kernel, bindings: kernel.bindings.length === 1 ? [dst] : pair }));
    });
    return { ops, stages, programs, frames };
  }) as [ViewPlan, ViewPlan];
  const paramsCode = paramsKernel(augment.views, layout, views.map((v) => v.frames));
  return { source, height, width, fusion, layout, paramsCode, views, workgroup };
}

/** One image's record for one view drawn on the host: what the params kernel writes for it. */
export function drawRecord(plan: AugmentPlan, view: number, key: Omit<DrawKey, 'view'>): Float32Array {
  const frames = plan.views[view].frames;
  const frameOf = (i: number) => (frames[i] === 'view' ? { height: plan.height, width: plan.width } : plan.source);
  return drawViewRecord(plan.views[view].ops, plan.layout, view, { ...key, view }, frameOf);
}

function check(op: AugOp, view: number, index: number, source: SourceLayout, height: number, width: number): void {
  const where = `augment.views[${view}][${index}] (${op.op})`;
  const fail = (why: string) => {
    throw new AugmentError(`${where}: ${why}`);
  };
  if (op.op !== 'normalize' && !(op.p >= 0 && op.p <= 1)) fail(`p must lie in [0, 1], got ${op.p}`);
  if (op.op === 'blur') {
    if (!(Number.isInteger(op.kernel) && op.kernel % 2 === 1 && op.kernel >= 1)) fail(`kernel must be an odd positive integer, got ${op.kernel}`);
    if ((op.kernel - 1) / 2 >= Math.min(height, width)) fail(`kernel ${op.kernel} is too large for reflect padding of a ${height}×${width} view`);
    if (!(op.sigma[0] > 0 && op.sigma[1] >= op.sigma[0])) fail(`sigma must be a range 0 < lo ≤ hi, got [${op.sigma.join(', ')}]`);
  }
  if (op.op === 'random_resized_crop' && !(op.ratio[0] > 0 && op.ratio[1] > 0 && op.scale[0] > 0 && op.scale[1] >= op.scale[0])) fail('scale and ratio must be positive ranges');
  if (op.op === 'random_resized_crop' && Math.max(source.height, source.width) > 65536) fail('source images larger than 65536 pixels a side are not supported');
  if (op.op === 'normalize') {
    for (const [name, xs] of [['mean', op.mean], ['std', op.std]] as const) {
      if (xs.length !== 1 && xs.length !== source.channels) fail(`${name} has ${xs.length} values for ${source.channels}-channel images`);
    }
    if (op.std.some((s) => !(s > 0))) fail('std must be positive');
  }
}

export interface AugmentInputs {
  source: GPUBuffer;
  count: number;
  seed: number;
  step: number;
  /** Where the per-image records go ([view][image][stride] f32), when the caller wants to read them. */
  params?: GPUBuffer;
}

interface Scratch {
  count: number;
  params: GPUBuffer;
  tmp: GPUBuffer;
}

const scratchOf = new WeakMap<AugmentPlan, Scratch>();

function scratch(rt: Runtime, plan: AugmentPlan, count: number): Scratch {
  const have = scratchOf.get(plan);
  if (have && have.count >= count) return have;
  have?.params.destroy();
  have?.tmp.destroy();
  const made = {
    count,
    params: rt.buffer(paramsBytes(plan, count), 'augment params'),
    tmp: rt.buffer(count * plan.source.channels * plan.height * plan.width * 4, 'augment scratch'),
  };
  scratchOf.set(plan, made);
  return made;
}

function uniforms(plan: AugmentPlan, count: number, seed: number, step: number, view: number): number[] {
  return [count, seed, step, view, plan.source.height, plan.source.width, plan.height, plan.width];
}

function groups(workgroups: number): [number, number] {
  return [Math.min(workgroups, 65535), Math.ceil(workgroups / 65535)];
}

/** Records the params kernel and both views' stages; `out1`/`out2` are [count, C, H, W] f32. */
export async function recordAugment(rt: Runtime, plan: AugmentPlan, inputs: AugmentInputs, out1: GPUBuffer, out2: GPUBuffer): Promise<void> {
  const params = inputs.params ?? scratch(rt, plan, inputs.count).params;
  const pipeline = await rt.pipeline(plan.paramsCode, 'augment_params');
  const u = rt.uniform(uniforms(plan, inputs.count, inputs.seed, inputs.step, 0), 'u32', 'augment params');
  rt.dispatch({ pipeline, bindings: [u, params], groups: groups(Math.ceil((2 * inputs.count) / 64)) });
  await recordViews(rt, plan, { source: inputs.source, count: inputs.count, params }, out1, out2);
}

/** A source batch onto the device in the layout the kernels read: uint8 packed four to a word, or f32. */
export function uploadSource(rt: Runtime, images: Uint8Array | Float32Array, label = 'augment source'): GPUBuffer {
  if (images instanceof Float32Array) return rt.upload(images, label);
  const padded = new Uint8Array(Math.ceil(images.length / 4) * 4);
  padded.set(images);
  return rt.upload(new Uint32Array(padded.buffer), label);
}

export function paramsBytes(plan: AugmentPlan, count: number): number {
  return 2 * count * plan.layout.stride * 4;
}

/** The views from given per-image records (laid out [view][image][stride]): fixed-parameter runs use it directly. */
export async function recordViews(
  rt: Runtime,
  plan: AugmentPlan,
  inputs: { source: GPUBuffer; count: number; params: GPUBuffer },
  out1: GPUBuffer,
  out2: GPUBuffer,
): Promise<void> {
  const { tmp } = scratch(rt, plan, inputs.count);
  for (const [view, out] of [out1, out2].entries()) {
    const u = rt.uniform(uniforms(plan, inputs.count, 0, 0, view), 'u32', `augment view ${view + 1}`);
    const named = { source: inputs.source, out, tmp };
    for (const program of plan.views[view].programs) {
      const pipeline = await rt.pipeline(program.code, program.label);
      rt.dispatch({ pipeline, bindings: [u, inputs.params, ...program.bindings.map((b) => named[b])], groups: groups(inputs.count) });
    }
  }
}
