// Chunked contrastive steps: a batch too large for the device trains as the exact same step, in
// chunks of k images. Each chunk takes rows [c·k, c·k+k) of both views (2k rows), runs the network
// with the shared parameters, and the chunks' embeddings are assembled into the full Z [2N, D] in
// the original row order, so InfoNCE sees all 2N rows as one batch. Autodiff then sums every chunk's
// parameter gradient, and `recomputeChunks` makes the backward pass re-run each chunk's forward just
// before its own backward, so only one chunk's activations are ever live:
//   (1) embed every chunk, keeping only its z; (2) InfoNCE over all 2N rows and ∂L/∂Z;
//   (3) per chunk, recompute its forward and backpropagate its rows of ∂L/∂Z; (4) one update.
// BatchNorm normalises over each chunk's own images (as data-parallel training without synced
// BatchNorm does), and its running statistics move once per chunk in pass (1), never in (3).
import { Builder } from './build.js';
import { recomputeSegments } from './checkpoint.js';
import { Graph, type Tensor } from './graph.js';
import { getLoss } from './losses/index.js';
import { phaseHead, phaseInput, type PhaseGraph, type PhaseSpec } from './phase.js';

/** Whether the phase is a training step with a chunk smaller than its batch. */
export function isChunked(p: PhaseSpec): boolean {
  // Source images to augment are one row an image; given views are two.
  const batch = p.augment ? p.input.shape[0] : p.input.shape[0] / 2;
  return !!p.loss && p.chunk !== undefined && p.chunk < batch;
}

/** The first image and image count of each chunk of `chunk` images out of `batch`. */
export function chunkRows(batch: number, chunk: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (let start = 0; start < batch; start += chunk) out.push({ start, count: Math.min(chunk, batch - start) });
  return out;
}

/** The chunked forward program and loss, not yet differentiated (buildForward's chunked form). */
export function buildChunkedForward(p: PhaseSpec): PhaseGraph {
  if (!p.loss) throw new Error(`phase ${p.name}: only a training step is chunked`);
  if (!p.network) throw new Error(`phase ${p.name}: a chunked step needs a network`);
  const network = p.network;
  const g = new Graph();
  const perChunk = augmentsPerChunk(p);
  const { input, views } = perChunk ? { input: phaseInput(g, p), views: undefined } : phaseHead(g, p);
  const half = views ? views.shape[0] / 2 : p.input.shape[0];
  const shared = new Map<string, Tensor>();
  let params: Tensor[] = [];
  const zs = chunkRows(half, p.chunk!).map(({ start, count }, c) => {
    const first = g.nodes.length;
    const x = views ? g.add('take_views', [views], { start, count, half }, 'data')[0] : chunkViews(g, p, input, start, count);
    const b = new Builder(g, p.mode, 'forward', shared);
    const z = b.network(x, network);
    params = b.params;
    for (let k = first; k < g.nodes.length; k++) g.nodes[k].chunk = c;
    return z;
  });
  const [output] = g.add('put_views', zs, { half }, 'data');
  g.outputs.set('z', output.id);
  const frozen = p.frozen ?? [];
  const trained = params.filter((t) => !frozen.some((prefix) => t.name!.startsWith(prefix)));
  const row = getLoss(p.loss.type);
  const extra = (row.inputs?.(output.shape, p.loss.attrs) ?? []).map((i) =>
    g.leaf('input', i.shape, 'data', { name: i.name, ...(i.dtype ? { dtype: i.dtype } : {}) }),
  );
  const loss = row.build(g, output, extra, p.loss.attrs);
  g.outputs.set('loss', loss.id);
  return { graph: g, input, output, params, trained, loss };
}

/**
 * Whether each chunk augments its own images: the whole batch's views never exist, only the u8
 * source and one chunk's views (recomputed with its forward). Given records (fixed parameters) and
 * sources whose images are not whole words keep one augmentation of the whole batch.
 */
function augmentsPerChunk(p: PhaseSpec): boolean {
  if (!p.augment || p.augment.given) return false;
  const dtype = p.input.dtype ?? 'f32';
  return dtype === 'f32' || (dtype === 'u8' && (p.input.shape.slice(1).reduce((a, b) => a * b, 1) % 4 === 0));
}

/**
 * A chunk's 2·count views: its images of the source, augmented with the image offset of its first
 * image, so every draw is keyed by the global image index and the views are the unchunked step's rows.
 */
function chunkViews(g: Graph, p: PhaseSpec, input: Tensor, start: number, count: number): Tensor {
  const dtype = p.input.dtype === 'u8' ? 'u8' : 'f32';
  const [images] = g.add('take_images', [input], { start, count, dtype }, 'data');
  const aug = p.augment!;
  const [views] = g.add('augment', [images], { ...aug, image_offset: (aug.image_offset ?? 0) + start }, 'augment', 'augment');
  return views;
}

/**
 * Every chunk but the last is recomputed before its backward; the last chunk's forward runs just
 * before the loss, so its activations are kept: a step costs chunks − 1 extra forward passes.
 */
export function recomputeChunks(g: Graph): Graph {
  const last = Math.max(...g.nodes.map((n) => n.chunk ?? -1));
  // A chunk's own augmentation (and its take of the source) is recomputed with it: otherwise every
  // chunk's views stay live from pass (1) to its backward, as much memory as the whole batch's views.
  // take_views of given views is not: its input is live anyway, and on small steps the extra copy
  // in the backward costs more than the chunk of views it frees.
  const recomputed = (n: { stage: string; op: string }) => n.stage === 'forward' || (n.stage === 'augment' && n.op === 'augment') || n.op === 'take_images';
  return recomputeSegments(g, (n) => (recomputed(n) && n.chunk !== undefined && n.chunk < last ? String(n.chunk) : undefined));
}
