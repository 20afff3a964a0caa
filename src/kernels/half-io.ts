// f16 storage for kernels written in f32: a program's storage bindings that hold f16 tensors are
// re-declared as arrays of halves, every load widened to f32 and every store narrowed, so the
// kernel's arithmetic (accumulators, reductions) stays f32 while its memory traffic halves. This is
// a rewrite of the program's WGSL at its binding declarations and indexing expressions: the kernel
// files keep one f32 body, and any kernel the rewrite cannot read is caught here, not miscompiled.
const WIDE: Record<string, { half: string; widen: string; narrow: string }> = {
  f32: { half: 'f16', widen: 'f32', narrow: 'f16' },
  vec2f: { half: 'vec2<f16>', widen: 'vec2f', narrow: 'vec2<f16>' },
  'vec2<f32>': { half: 'vec2<f16>', widen: 'vec2f', narrow: 'vec2<f16>' },
  vec4f: { half: 'vec4<f16>', widen: 'vec4f', narrow: 'vec4<f16>' },
  'vec4<f32>': { half: 'vec4<f16>', widen: 'vec4f', narrow: 'vec4<f16>' },
};

export class HalfRewriteError extends Error {}

/** Index of the `]` closing the `[` at `open`. */
function closing(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '[' || code[i] === '(') depth++;
    else if (code[i] === ']' || code[i] === ')') if (--depth === 0) return i;
  }
  throw new HalfRewriteError('unbalanced brackets');
}

/** Index of the `;` ending the statement that continues at `from`. */
function statementEnd(code: string, from: number): number {
  let depth = 0;
  for (let i = from; i < code.length; i++) {
    const c = code[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ';' && depth === 0) return i;
  }
  throw new HalfRewriteError('unterminated statement');
}

/** Every `name[…]` of `code` read through `widen(…)` and every `name[…] = v` / `name[…] op= v` stored through `narrow(…)`. */
function rewriteAccesses(code: string, name: string, widen: string, narrow: string): string {
  if (new RegExp(`&\\s*${name}\\b(?!\\s*\\[)`).test(code.replace(/arrayLength\s*\(\s*&\s*\w+\s*\)/g, ''))) {
    throw new HalfRewriteError(`${name} is passed by pointer`);
  }
  const at = new RegExp(`(?<![\\w.])${name}\\s*\\[`, 'g');
  let out = '';
  let pos = 0;
  for (let m = at.exec(code); m; m = at.exec(code)) {
    if (m.index < pos) continue;
    const open = m.index + m[0].length - 1;
    const close = closing(code, open);
    const index = rewriteAccesses(code.slice(open + 1, close), name, widen, narrow);
    const access = `${name}[${index}]`;
    const rest = code.slice(close + 1);
    const assign = /^\s*([+\-*/]?)=(?!=)/.exec(rest);
    out += code.slice(pos, m.index);
    if (assign) {
      const valueStart = close + 1 + assign[0].length;
      const end = statementEnd(code, valueStart);
      const value = rewriteAccesses(code.slice(valueStart, end), name, widen, narrow);
      const rhs = assign[1] ? `${widen}(${access}) ${assign[1]} (${value})` : value;
      out += `${access} = ${narrow}(${rhs})`;
      pos = end;
    } else {
      out += `${widen}(${access})`;
      pos = close + 1;
    }
    at.lastIndex = pos;
  }
  return out + code.slice(pos);
}

/**
 * The program with storage bindings `bindings` (binding numbers) holding halves. A binding already
 * declared f16, or as u32 words of packed halves (a kernel with its own f16 form: the fused InfoNCE's
 * variant, cast), is left as it is.
 */
export function halfStorage(code: string, bindings: number[]): string {
  let out = code;
  let rewritten = false;
  for (const b of bindings) {
    const decl = new RegExp(`(@binding\\(${b}\\)\\s*var<storage,\\s*(?:read|read_write)>\\s*(\\w+)\\s*:\\s*array<)([\\w<>]+)>`);
    const m = decl.exec(out);
    if (!m) throw new HalfRewriteError(`binding ${b} is not a storage array`);
    if (/f16/.test(m[3]) || m[3] === 'u32') continue;
    const wide = WIDE[m[3]];
    if (!wide) throw new HalfRewriteError(`binding ${b} holds ${m[3]}, which has no f16 form`);
    const name = m[2];
    out = out.replace(decl, `$1${wide.half}>`);
    const declEnd = out.indexOf(';', m.index) + 1;
    out = out.slice(0, declEnd) + rewriteAccesses(out.slice(declEnd), name, wide.widen, wide.narrow);
    rewritten = true;
  }
  return rewritten && !/^\s*enable f16;/m.test(out) ? `enable f16;\n${out}` : out;
}
