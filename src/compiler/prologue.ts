// Prologue fusion: relu_backward folded into the loads of the kernels that read its result, so the
// backward pass of BN→relu and linear→relu never writes the masked gradient out. Each load g[k] of
// the input becomes select(0.0, g[k], y[k] > 0.0), reading the relu's output y at the same index:
// valid whenever the program only ever loads whole f32 elements of that input.
import type { KernelPlan } from '../kernels/op.js';

/** Input `input` of the op is relu_backward(in:mask, itself): the plan reads the mask as an extra input. */
export interface Prologue {
  input: number;
  mask: number;
}

export function withPrologues(plan: KernelPlan, prologues: Prologue[]): KernelPlan | undefined {
  let programs = plan.programs;
  for (const { input, mask } of prologues) {
    const next = [];
    for (const program of programs) {
      if (!program.bindings.includes(`in:${input}`)) {
        next.push(program);
        continue;
      }
      const rewritten = maskLoads(program, input, mask);
      if (!rewritten) return undefined;
      next.push(rewritten);
    }
    programs = next;
  }
  return { ...plan, programs };
}

function maskLoads(program: KernelPlan['programs'][number], input: number, mask: number) {
  const offset = program.params ? 1 : 0;
  const code = program.code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const decl = new RegExp(`@binding\\(${program.bindings.indexOf(`in:${input}`) + offset}\\)\\s*var<storage,\\s*read>\\s*(\\w+)\\s*:\\s*array<f32>\\s*;`).exec(code);
  if (!decl) return undefined;
  const name = decl[1];
  const maskName = `${name}_mask`;
  if (new RegExp(`\\b${maskName}\\b`).test(code)) return undefined;
  const uses = code.match(new RegExp(`(?<![\\w.])${name}\\b`, 'g'))?.length ?? 0;
  let loads = 0;
  const body = code.replace(new RegExp(`(?<![\\w.])${name}\\[([^\\[\\]]*)\\](?!\\s*=[^=])`, 'g'), (_m, index: string) => {
    loads++;
    return `select(0.0, ${name}[${index}], ${maskName}[${index}] > 0.0)`;
  });
  // Every use other than the declaration must be a load we rewrote.
  if (loads === 0 || uses !== loads + 1) return undefined;
  const binding = program.bindings.length + offset;
  const declared = body.replace(decl[0], `${decl[0]}\n@group(0) @binding(${binding}) var<storage, read> ${maskName}: array<f32>;`);
  return { ...program, code: declared, label: `${program.label}_masked`, bindings: [...program.bindings, `in:${mask}`] };
}
