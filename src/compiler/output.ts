// What `compile` writes: every kernel's WGSL, the kernel graph as JSON and a short summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STAGES, type Graph, type Stage } from '../ir/graph.js';
import { formatGraph } from '../ir/print.js';
import type { ChunkPlan } from './chunk.js';
import type { KernelGraph } from './kernel-graph.js';

export interface Summary {
  nodes: number;
  kernels: number;
  dispatches: number;
  shaders: number;
  /** FLOPs of each stage present, and their total. */
  flops: Partial<Record<Stage, number>> & { total: number };
  memory: { plannedBytes: number; naiveBytes: number; persistentBytes: number };
  /** A chunked step: its chunks and what they cost (the recomputed forward passes' FLOPs). */
  chunked?: ChunkPlan & { extraForwards: number; recomputeFlops: number };
  /** The step's storage precision and its planned peak in each precision (`compile` plans both). */
  precision?: { used: 'f32' | 'f16'; plannedBytes: { f32: number; f16: number } };
}

export function summarize(graph: Graph, kg: KernelGraph, chunking?: ChunkPlan): Summary {
  const flops: Summary['flops'] = { total: 0 };
  for (const k of kg.kernels) {
    flops[k.stage] = (flops[k.stage] ?? 0) + k.flops;
    flops.total += k.flops;
  }
  return {
    nodes: graph.nodes.length,
    kernels: kg.kernels.length,
    dispatches: kg.kernels.reduce((a, k) => a + k.dispatches.length, 0),
    shaders: kg.shaders.length,
    flops,
    memory: kg.memory,
    ...(chunking ? { chunked: { ...chunking, extraForwards: chunking.chunks - 1, recomputeFlops: recomputeFlops(kg) } } : {}),
  };
}

/** A step's FLOPs, and those of the forward kernels a chunked step runs again in its backward stage. */
export function chunkFlops(kg: KernelGraph): { recompute: number; total: number } {
  return { recompute: recomputeFlops(kg), total: kg.kernels.reduce((a, k) => a + k.flops, 0) };
}

function recomputeFlops(kg: KernelGraph): number {
  const forwardOps = new Set(kg.kernels.filter((k) => k.stage === 'forward').map((k) => `${k.label}@${k.path}`));
  return kg.kernels.filter((k) => k.stage === 'backward' && forwardOps.has(`${k.label}@${k.path}`)).reduce((a, k) => a + k.flops, 0);
}

/** The chunked step in one line: what `compile` prints and the run says at its start. */
export function formatChunking(c: ChunkPlan, flops?: { recompute: number; total: number }): string {
  const why = c.reason === 'train.chunk' ? 'as train.chunk asks' : c.reason === 'binding' ? 'since one pass has a buffer over what one binding may hold' : 'since one pass is over the memory budget';
  const cost = flops ? ` (+${((100 * flops.recompute) / Math.max(1, flops.total - flops.recompute)).toFixed(0)}% FLOPs)` : '';
  const peak = c.unchunkedPeakBytes ? `, peak ${mib(c.peakBytes)} instead of ${mib(c.unchunkedPeakBytes)}` : `, peak ${mib(c.peakBytes)}`;
  return `chunked ${c.batch} images per view into ${c.chunks} chunks of ≤${c.chunk} ${why}: exact InfoNCE over all ${2 * c.batch} rows, ${c.chunks - 1} extra forward passes per step${cost}${peak}; BatchNorm normalises per chunk and its running statistics move once per chunk`;
}

export function formatSummary(s: Summary, title: string): string {
  const { plannedBytes, naiveBytes, persistentBytes } = s.memory;
  const saved = naiveBytes > 0 ? (100 * (1 - plannedBytes / naiveBytes)).toFixed(0) : '0';
  return [
    title,
    `kernels      ${s.kernels} (${s.dispatches} dispatches, ${s.shaders} distinct WGSL programs) from ${s.nodes} graph nodes`,
    `FLOPs/step   ${gflop(s.flops.total)} (${STAGES.filter((st) => s.flops[st] !== undefined).map((st) => `${st} ${gflop(s.flops[st]!)}`).join(', ')})`,
    `peak memory  ${mib(plannedBytes)} planned (${mib(persistentBytes)} params, state and inputs) vs ${mib(naiveBytes)} with one buffer per tensor (${saved}% less)`,
    ...(s.chunked ? [`chunks       ${formatChunking(s.chunked, { recompute: s.chunked.recomputeFlops, total: s.flops.total })}`] : []),
    ...(s.precision ? [formatPrecision(s.precision)] : []),
  ].join('\n');
}

function formatPrecision({ used, plannedBytes: { f32, f16 } }: NonNullable<Summary['precision']>): string {
  const what = used === 'f16' ? 'activations and their gradients in f16, weights, state and statistics f32' : 'f32 throughout';
  return `precision    ${used} (${what}): peak ${mib(f16)} planned in f16, ${mib(f32)} in f32 (f16/f32 = ${(f16 / f32).toFixed(2)})`;
}

/** One line per kernel (stage, label, dispatches, FLOPs, buffers) and the plan's memory: for golden dumps. */
export function formatKernels(kg: KernelGraph): string {
  const lines = kg.kernels.map((k) => {
    const buffers = [...new Set(k.dispatches.flatMap((d) => d.buffers))].join(',');
    return `${k.stage}${k.chunk !== undefined ? ` chunk=${k.chunk}` : ''} ${k.label} dispatches=${k.dispatches.length} flops=${k.flops} buffers=${buffers} @${k.path}`;
  });
  for (const b of kg.buffers) lines.push(`buffer ${b.id} ${b.kind} ${b.bytes}${b.name ? ` ${b.name}` : ''}${b.dtype ? ` ${b.dtype}` : ''}${b.dtypes ? ` ${b.dtypes.join('|')}` : ''}`);
  const { plannedBytes, naiveBytes, persistentBytes } = kg.memory;
  lines.push(`memory planned=${plannedBytes} naive=${naiveBytes} persistent=${persistentBytes} shaders=${kg.shaders.length}`);
  return lines.join('\n') + '\n';
}

/**
 * Writes DIR/kernels/NNN_label.wgsl (the label cut to 80 characters: a long fused chain's name is over what a file name may hold), DIR/kernel-graph.json, DIR/summary.json, DIR/summary.txt, and
 * DIR/graph.txt: the fused graph, one line a kernel with its inputs, stage and spec path.
 */
export function writeCompiled(dir: string, kg: KernelGraph, summary: Summary, title: string, graph: Graph): string[] {
  const kernelsDir = join(dir, 'kernels');
  mkdirSync(kernelsDir, { recursive: true });
  const files = kg.shaders.map((code, i) => {
    const label = kg.kernels.flatMap((k) => k.dispatches).find((d) => d.shader === i)?.label ?? 'kernel';
    const file = join(kernelsDir, `${String(i).padStart(3, '0')}_${label.replace(/[^\w]+/g, '_').slice(0, 80).replace(/_+$/, '')}.wgsl`);
    writeFileSync(file, code.trimStart());
    return file;
  });
  const graphFile = join(dir, 'kernel-graph.json');
  const { shaders: _shaders, ...rest } = kg;
  // Every buffer says its element type here (the plan leaves f32 implicit); a temp buffer reused by
  // tensors of several types lists them in `dtypes`.
  const buffers = rest.buffers.map((b) => (b.dtype || b.dtypes ? b : { ...b, dtype: 'f32' }));
  writeFileSync(graphFile, JSON.stringify({ ...rest, buffers, shaders: files.map((f) => f.slice(dir.length + 1)) }, null, 1));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(dir, 'summary.txt'), formatSummary(summary, title) + '\n');
  writeFileSync(join(dir, 'graph.txt'), formatGraph(graph));
  return [...files, graphFile];
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const gflop = (flops: number) => `${(flops / 1e9).toFixed(3)} GFLOP`;
