// Prologue fusion: a pointwise op that declares itself cheap to recompute (relu_backward) folded
// into the loads of the kernels reading its result, so the backward pass of BN→relu and
// linear→relu never writes the masked gradient out. Each load g[k] of the input becomes the op's
// expression over its arguments' loads at the same index: valid whenever the program only ever
// loads whole f32 elements of that input.
import { pointwiseOf, type KernelPlan, type Program } from '../kernels/op.js';
import type { Prologue } from '../ir/graph.js';

export function withPrologues(plan: KernelPlan, prologues: Prologue[]): KernelPlan | undefined {
  let programs = plan.programs;
  for (const prologue of prologues) {
    const next = [];
    for (const program of programs) {
      if (!program.bindings.includes(`in:${prologue.input}`)) {
        next.push(program);
        continue;
      }
      const rewritten = foldLoads(program, prologue);
      if (!rewritten) return undefined;
      next.push(rewritten);
    }
    programs = next;
  }
  return { ...plan, programs };
}

function foldLoads(program: Program, { input, op, args }: Prologue): Program | undefined {
  const pointwise = pointwiseOf(op);
  if (!pointwise) return undefined;
  const offset = program.params ? 1 : 0;
  const code = program.code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const decl = new RegExp(`@binding\\(${program.bindings.indexOf(`in:${input}`) + offset}\\)\\s*var<storage,\\s*read>\\s*(\\w+)\\s*:\\s*array<f32>\\s*;`).exec(code);
  if (!decl) return undefined;
  const name = decl[1];
  const names = args.map((a, j) => (a === input ? name : `${name}_${op}_${j}`));
  if (names.some((v) => v !== name && new RegExp(`\\b${v}\\b`).test(code))) return undefined;
  const uses = code.match(new RegExp(`(?<![\\w.])${name}\\b`, 'g'))?.length ?? 0;
  let loads = 0;
  const body = code.replace(new RegExp(`(?<![\\w.])${name}\\[([^\\[\\]]*)\\](?!\\s*=[^=])`, 'g'), (_m, index: string) => {
    loads++;
    return pointwise.wgsl(names.map((v) => `${v}[${index}]`), 'f32');
  });
  // Every use other than the declaration must be a load we rewrote.
  if (loads === 0 || uses !== loads + 1) return undefined;
  const extra = args.flatMap((a, j) => (a === input ? [] : [{ binding: `in:${a}`, name: names[j] }]));
  const decls = extra.map((e, k) => `@group(0) @binding(${program.bindings.length + offset + k}) var<storage, read> ${e.name}: array<f32>;`);
  const declared = body.replace(decl[0], [decl[0], ...decls].join('\n'));
  return { ...program, code: declared, label: `${program.label}_${op}`, bindings: [...program.bindings, ...extra.map((e) => e.binding)] };
}
