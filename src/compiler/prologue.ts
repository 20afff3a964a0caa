// Prologue fusion: an op that declares itself cheap to recompute folded into the loads of the
// kernels reading its result, so the backward pass of linear→relu never writes the masked gradient
// out, nor BN's backward the gradient a maxpool routes to it. Each load g[k] of the input becomes the
// op's expression over its arguments' loads at the same index (a pointwise op, relu_backward), or a
// call of the function its gather defines (maxpool2d_backward): valid whenever the program only
// ever loads whole f32 elements of that input.
import { getOp, pointwiseOf, type Gather, type KernelPlan, type Program, type Shape, type Target } from '../kernels/op.js';
import type { Prologue } from '../ir/graph.js';

/** The gather of a prologue's op, for its arguments' shapes; undefined for a pointwise op. */
export function gatherOf(p: Pick<Prologue, 'op' | 'attrs'>, shapes: Shape[], target: Target): Gather | undefined {
  return getOp(p.op).gather?.(shapes, p.attrs ?? {}, target);
}

/** `shapes(p)`: the shapes of prologue p's arguments. */
export function withPrologues(plan: KernelPlan, prologues: Prologue[], shapes: (p: Prologue) => Shape[], target: Target): KernelPlan | undefined {
  let programs = plan.programs;
  for (const prologue of prologues) {
    const next = [];
    for (const program of programs) {
      if (!program.bindings.includes(`in:${prologue.input}`)) {
        next.push(program);
        continue;
      }
      const rewritten = foldLoads(program, prologue, gatherOf(prologue, shapes(prologue), target));
      if (!rewritten) return undefined;
      next.push(rewritten);
    }
    programs = next;
  }
  return { ...plan, programs };
}

function foldLoads(program: Program, { input, op, args }: Prologue, gather: Gather | undefined): Program | undefined {
  const pointwise = pointwiseOf(op);
  if (!pointwise && !gather) return undefined;
  const offset = program.params ? 1 : 0;
  const code = program.code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const decl = new RegExp(`@binding\\(${program.bindings.indexOf(`in:${input}`) + offset}\\)\\s*var<storage,\\s*read>\\s*(\\w+)\\s*:\\s*array<f32>\\s*;`).exec(code);
  if (!decl) return undefined;
  const name = decl[1];
  const names = args.map((a, j) => (a === input ? name : `${name}_${op}_${j}`));
  const fn = `${name}_${op}`;
  if ([...names, fn].some((v) => v !== name && new RegExp(`\\b${v}\\b`).test(code))) return undefined;
  // A reader's aligned 4-vector loader of the input, `fn NAME_vec4(i: u32) -> vec4f { … }`, gives way
  // to the gather's own form of it.
  const loader = new RegExp(`fn ${name}_vec4\\(i: u32\\) -> vec4f \\{[^{}]*\\}`);
  const vec4 = gather?.vec4 && loader.test(code) ? gather.vec4(`${name}_vec4`, names) : undefined;
  const rest = vec4 ? code.replace(loader, '') : code;
  const uses = rest.match(new RegExp(`(?<![\\w.])${name}\\b`, 'g'))?.length ?? 0;
  let loads = 0;
  const body = rest.replace(new RegExp(`(?<![\\w.])${name}\\[([^\\[\\]]*)\\](?!\\s*=[^=])`, 'g'), (_m, index: string) => {
    loads++;
    return pointwise ? pointwise.wgsl(names.map((v) => `${v}[${index}]`), 'f32') : `${fn}(${index})`;
  });
  // Every use other than the declaration must be a load we rewrote.
  if ((loads === 0 && !vec4) || uses !== loads + 1) return undefined;
  const extra = args.flatMap((a, j) => (a === input ? [] : [{ binding: `in:${a}`, name: names[j] }]));
  const decls = extra.map((e, k) => `@group(0) @binding(${program.bindings.length + offset + k}) var<storage, read> ${e.name}: array<f32>;`);
  const functions = [...(gather && loads > 0 ? [gather.wgsl(fn, names)] : []), ...(vec4 ? [vec4] : [])];
  const declared = body.replace(decl[0], [decl[0], ...decls, ...functions].join('\n'));
  return { ...program, code: declared, label: `${program.label}_${op}`, bindings: [...program.bindings, ...extra.map((e) => e.binding)] };
}
