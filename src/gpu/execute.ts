// Runs one op's kernel plan on buffers the caller owns: the building block of the step executor.
import { STEP_DEFAULTS, stepWords, type KernelPlan, type StepScalars } from '../kernels/op.js';
import type { Runtime } from './runtime.js';

export interface PlanBuffers {
  inputs: GPUBuffer[];
  outputs: GPUBuffer[];
  /** Scratch buffers; allocated here when the caller passes none. */
  scratch?: GPUBuffer[];
  /** The per-step scalars of programs that bind 'step'. */
  step?: StepScalars;
}

/** Records the plan's dispatches in the runtime's current encoder (nothing is submitted). */
export async function recordPlan(rt: Runtime, plan: KernelPlan, buffers: PlanBuffers): Promise<void> {
  const scratch = buffers.scratch ?? (plan.scratchBytes ?? []).map((bytes, i) => rt.buffer(bytes, `scratch ${i}`));
  for (const program of plan.programs) {
    const pipeline = await rt.pipeline(program.code, program.label);
    const bindings = program.bindings.map((name) => {
      if (name === 'step') {
        const words = stepWords(buffers.step ?? STEP_DEFAULTS);
        return rt.uniform(words.values, words.types, 'step');
      }
      const [kind, index] = name.split(':');
      const list = kind === 'in' ? buffers.inputs : kind === 'out' ? buffers.outputs : scratch;
      const buffer = list[Number(index)];
      if (!buffer) throw new Error(`${program.label}: binding ${name} has no buffer`);
      return buffer;
    });
    if (program.params) bindings.unshift(rt.uniform(program.params.values, program.params.types ?? 'u32', program.label));
    rt.dispatch({ pipeline, bindings, groups: program.groups });
  }
}
