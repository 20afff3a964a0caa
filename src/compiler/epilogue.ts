// Epilogue fusion: a unary pointwise op applied inside its producer's final stores, so conv→relu,
// linear+bias→relu and BN-apply→relu are each one kernel and the pre-activation never reaches memory.
// It works on any op's WGSL as long as the program writing output 0 only ever stores whole elements
// into it (never reads it back or accumulates): then wrapping every stored value is exactly applying
// the op afterwards.
import { pointwiseOf, type KernelPlan } from '../kernels/op.js';

/** Ops that may run in a producer's stores: pointwise ones (applied to one input, the stored value). */
export function canEpilogue(op: string): boolean {
  return pointwiseOf(op) !== undefined;
}

/** The plan with `ops` applied to every store of output 0, or undefined when its WGSL does not allow it. */
export function withEpilogue(plan: KernelPlan, ops: string[]): KernelPlan | undefined {
  const writers = plan.programs.filter((p) => p.bindings.includes('out:0'));
  if (writers.length !== 1 || !ops.every(canEpilogue)) return undefined;
  // Comments may name the output variable; the rewritten program goes without them.
  const program = { ...writers[0], code: writers[0].code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '') };
  const binding = program.bindings.indexOf('out:0') + (program.params ? 1 : 0);
  const decl = new RegExp(`@binding\\(${binding}\\)\\s*var<storage,\\s*read_write>\\s*(\\w+)\\s*:\\s*array<(f32|vec4<f32>|vec4f)>`).exec(program.code);
  if (!decl) return undefined;
  const [, name, elem] = decl;
  const type = elem === 'f32' ? 'f32' : 'vec4<f32>';
  // A member access (id.y) is not a use of a variable named y.
  const uses = program.code.match(new RegExp(`(?<![\\w.])${name}\\b`, 'g'))?.length ?? 0;
  const store = new RegExp(`(?<![\\w.])${name}(\\[[^\\]=;]*(?:\\[[^\\]]*\\][^\\]=;]*)*\\])\\s*=(?!=)\\s*([^;]+);`, 'g');
  let stores = 0;
  const code = program.code.replace(store, (_m, index: string, value: string) => {
    stores++;
    const wrapped = ops.reduce((v, op) => pointwiseOf(op)!.wgsl([v], type), value.trim());
    return `${name}${index} = ${wrapped};`;
  });
  // Every use other than the declaration must be a plain store.
  if (stores === 0 || uses !== stores + 1) return undefined;
  const label = `${program.label}_${ops.join('_')}`;
  return { ...plan, programs: plan.programs.map((p) => (p === writers[0] ? { ...p, code, label } : p)) };
}
