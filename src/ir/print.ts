// The graph as text, one line per named tensor and per node: what golden dumps and `compile --out`
// show, so a review sees what a change did to the program.
import type { Graph, Tensor } from './graph.js';

const shape = (t: Tensor) => `[${t.shape.join(',')}]${t.dtype && t.dtype !== 'f32' ? ` ${t.dtype}` : ''}`;

function attrs(a: Record<string, unknown>): string {
  const entries = Object.entries(a).filter(([, v]) => v !== undefined);
  if (!entries.length) return '';
  // Long attributes (an augmentation recipe, a fused expression) stay on one line, compactly.
  return ` ${JSON.stringify(Object.fromEntries(entries))}`;
}

export function formatGraph(g: Graph): string {
  const lines: string[] = [];
  for (const t of g.tensors) {
    if (t.role === 'value' || t.name === undefined) continue;
    lines.push(`${t.role} ${t.name} ${shape(t)}${t.kind ? ` ${t.kind}` : ''}`);
  }
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => g.tensors[i].name ?? `t${i}`).join(', ');
    const outs = n.outputs.map((o) => `t${o}${shape(g.tensors[o])}`).join(', ');
    const fused = [...(n.prologue ?? []).map(() => 'prologue'), ...(n.epilogue ?? [])];
    lines.push(`${n.stage}${n.chunk !== undefined ? ` chunk=${n.chunk}` : ''} ${outs} = ${n.op}(${ins})${attrs(n.attrs)}${fused.length ? ` +${fused.join('+')}` : ''} @${n.path}`);
  }
  for (const [name, id] of g.outputs) lines.push(`output ${name} = t${id}`);
  return lines.join('\n') + '\n';
}
