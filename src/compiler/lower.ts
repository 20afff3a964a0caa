// Lowering: each graph node's kernel plan (chosen for the target adapter) bound to planned buffers.
import { getOp, numel, tensorBytes, type KernelPlan, type Program, type Target } from '../kernels/op.js';
import type { Graph, Node } from '../ir/graph.js';
import type { Kernel, KernelGraph } from './kernel-graph.js';
import { nodePlan, opShapes } from './fuse.js';
import { halfStorage } from '../kernels/half-io.js';
import { planBuffers } from './plan.js';
import { halfBindings, scratchBytes } from './precision.js';

export function lower(g: Graph, target: Target): KernelGraph {
  const isHalf = (t: number) => g.tensor(t).dtype === 'f16';
  const plans: KernelPlan[] = g.nodes.map((n) => {
    const shapes = opShapes(g, n);
    let plan: KernelPlan | undefined;
    try {
      plan = nodePlan(g, n, target);
    } catch (err) {
      throw new Error(`${n.path}: ${n.op}: no kernel for shapes ${JSON.stringify(shapes)}: ${(err as Error).message}`);
    }
    if (!plan) throw new Error(`${n.path}: ${n.op} cannot take its fused prologue or epilogue`);
    return plan;
  });
  const plan = planBuffers(
    g,
    g.nodes.map((n, k) => ({
      inplace: getOp(n.op).inplace,
      scratchBytes: scratchBytes(n, plans[k], isHalf),
      written: n.outputs.map((_, slot) => slot).filter((slot) => plans[k].programs.some((p) => p.bindings.includes(`out:${slot}`))),
      readsStep: plans[k].programs.some((p) => p.bindings.includes('step')),
    })),
  );

  const shaders: string[] = [];
  const shaderIndex = new Map<string, number>();
  const kernels: Kernel[] = g.nodes.map((n, k) => {
    const def = getOp(n.op);
    const shapes = opShapes(g, n);
    const dispatches = plans[k].programs.map((program) => {
      const p = { ...program, code: halfProgram(n, plans[k], program, isHalf) };
      let shader = shaderIndex.get(p.code);
      if (shader === undefined) {
        shader = shaders.push(p.code) - 1;
        shaderIndex.set(p.code, shader);
      }
      const buffers = p.bindings.map((binding) => {
        if (binding === 'step') return plan.step!;
        const [kind, index] = binding.split(':');
        const slot = Number(index);
        const id = kind === 'in' ? plan.tensorBuffer[n.inputs[slot]] : kind === 'out' ? plan.tensorBuffer[n.outputs[slot]] : plan.scratch[k][slot];
        if (id === undefined || id < 0) throw new Error(`${n.path}: ${p.label} binds ${binding}, which ${n.op} does not have`);
        return id;
      });
      const [x, y = 1, z = 1] = p.groups;
      return { label: p.label, shader, groups: [x, y, z] as [number, number, number], params: p.params, buffers };
    });
    const epilogue = n.epilogue ?? [];
    const flops = (def.flops?.(shapes, n.attrs) ?? 0) + epilogue.length * numel(g.tensor(n.outputs[0]).shape);
    const prologue = (n.prologue ?? []).map((p) => p.op);
    // Each input read once and each output written once: the least traffic the kernel can have.
    const bytes = [...n.inputs, ...n.outputs].reduce((a, t) => a + tensorBytes(g.tensor(t).shape, g.tensor(t).dtype), 0);
    const absorbed = def.absorbed?.(n.attrs) ?? [];
    return { op: n.op, label: [...prologue, n.op, ...epilogue, ...absorbed].join('+'), shapes, attrs: n.attrs, path: n.path, stage: n.stage, ...(n.chunk !== undefined ? { chunk: n.chunk } : {}), flops, bytes, dispatches };
  });

  const outputs: KernelGraph['outputs'] = {};
  for (const [name, id] of g.outputs) outputs[name] = { buffer: plan.tensorBuffer[id], shape: g.tensor(id).shape };
  const plannedBytes = plan.buffers.reduce((a, b) => a + b.bytes, 0);
  const persistentBytes = plan.buffers.filter((b) => b.kind !== 'temp').reduce((a, b) => a + b.bytes, 0);
  return {
    shaders,
    buffers: plan.buffers,
    kernels,
    tensorBuffer: plan.tensorBuffer,
    outputs,
    memory: { plannedBytes, naiveBytes: plan.naiveBytes, persistentBytes },
  };
}

/** The program reading and writing the node's f16 tensors (and scratch copies of them) as halves (src/kernels/half-io.ts). */
function halfProgram(n: Node, plan: KernelPlan, p: Program, isHalf: (tensor: number) => boolean): string {
  try {
    return halfStorage(p.code, halfBindings(n, plan, p, isHalf));
  } catch (err) {
    throw new Error(`${n.path}: ${p.label} cannot store f16 tensors: ${(err as Error).message}`);
  }
}
