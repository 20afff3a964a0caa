// The kernel graph: what the executor runs and what `compile` writes. Plain JSON-able data.
import type { Role, Stage } from '../ir/graph.js';
import type { DType } from '../kernels/op.js';

export interface PlannedBuffer {
  id: number;
  bytes: number;
  /**
   * Persistent buffers hold one named tensor for the whole run; temp buffers are reused by liveness;
   * the one 'step' buffer is the per-step uniform (StepScalars) every program listing 'step' binds.
   */
  kind: Exclude<Role, 'value'> | 'temp' | 'step';
  name?: string;
  /** Element type of the buffer's tensors, where not f32. */
  dtype?: DType;
  /** A temp buffer reused by tensors of several element types (f32 and f16 activations) holds these. */
  dtypes?: DType[];
  /** Initial contents of state and const buffers, and of params without given values. */
  fill?: number;
  bound?: number;
  /** Tensor ids stored here over the step, in order. */
  tensors: number[];
}

export interface KernelDispatch {
  label: string;
  /** Index into KernelGraph.shaders: one WGSL source per distinct program. */
  shader: number;
  groups: [number, number, number];
  params?: { values: number[]; types?: ('u32' | 'f32')[] };
  /** Buffer ids in binding order (after the uniform at binding 0 when params are present). */
  buffers: number[];
}

export interface Kernel {
  op: string;
  /** The op with what was fused into it, joined by + (conv2d+relu, batchnorm+relu+maxpool2d, relu_backward+matmul). */
  label: string;
  /** The op's input shapes and attributes, as the kernel was planned for them. */
  shapes: number[][];
  attrs: Record<string, unknown>;
  path: string;
  stage: Stage;
  /** The chunk of images a chunked step's kernel computes for; its backward stage recomputes the forward. */
  chunk?: number;
  flops: number;
  /** Bytes of its inputs and outputs: the memory traffic of the kernel at best. */
  bytes: number;
  dispatches: KernelDispatch[];
}

export interface KernelGraph {
  shaders: string[];
  buffers: PlannedBuffer[];
  kernels: Kernel[];
  /** Buffer of each tensor, by tensor id (-1 for tensors no kernel touches). */
  tensorBuffer: number[];
  /** Named results: 'loss', 'z', and each param's and state's value after the step. */
  outputs: Record<string, { buffer: number; shape: number[] }>;
  memory: { plannedBytes: number; naiveBytes: number; persistentBytes: number };
}
