// RUN_DIR/report.html: one self-contained page (inline SVG, images as data URIs, no script) with what
// a person checks before trusting an encoder: the curves, the augmentations, nearest neighbours of
// the trained encoder beside the random-init one, an embedding map, and per-class accuracy.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { UMAP } from 'umap-js';
import { classCount, imageBytes, openDataset, type Dataset } from '../data/index.js';
import { Rng } from '../data/rng.js';
import { knnClassify, l2Normalize, type Features } from '../eval/knn.js';
import { linearProbe, probePredict } from '../eval/linear-probe.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ResolvedSpec } from '../spec/index.js';
import { extractFeatures } from '../eval/features.js';
import { readMetrics } from '../train/metrics.js';
import { FILES, writeAtomic } from '../train/run-folder.js';
import { RunFolderError } from '../export/errors.js';
import { runSpec, runWeights } from '../export/run.js';
import { classColor, esc, lineChart, scatter } from './svg.js';

export const REPORT_FILE = 'report.html';
const QUERIES = 12;
const NEIGHBOURS = 8;
/** Points on the embedding map: enough to see clusters, few enough for UMAP to take seconds. */
const MAP_POINTS = 2000;

export async function writeReport(rt: Runtime, dir: string, say: (text: string) => void = () => {}): Promise<string> {
  const spec = runSpec(dir);
  const trained = runWeights(dir, 'checkpoint');
  const initial = runWeights(dir, 'init');
  const train = openDataset(spec.data, 'train');
  const test = openDataset(spec.data, spec.data.eval_split);
  say(`report: features of ${train.name} and ${test.name}, trained and at random init`);
  const features = {
    trained: { train: await extractFeatures(rt, spec, trained, train), test: await extractFeatures(rt, spec, trained, test) },
    initial: { train: await extractFeatures(rt, spec, initial, train), test: await extractFeatures(rt, spec, initial, test) },
  };
  const names = (c: number) => train.classes?.[c] ?? test.classes?.[c] ?? String(c);
  const labelled = !!(train.labels && test.labels);
  const sections = [
    section('curves', 'Training curves', curves(dir)),
    section('augmentations', 'Augmentations', augmentations(dir)),
    section('neighbours', 'Nearest neighbours', labelled ? neighbours(train, test, features, names) : noLabels()),
    section('embedding', 'Embedding map', embeddingMap(features.trained.test, spec.train.seed, names)),
    section('per-class', 'Per-class accuracy', labelled ? await perClass(rt, spec, features.trained, Math.max(classCount(train), classCount(test)), names) : noLabels()),
    section('spec', 'Resolved spec', `<pre>${esc(JSON.stringify(spec, null, 2))}</pre>`),
    section('summary', 'Summary', summary(dir)),
  ];
  const html = page(spec.name, dir, sections.join('\n'));
  const path = join(dir, REPORT_FILE);
  writeAtomic(path, html);
  return path;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

const noLabels = () => '<p class="empty">The data set has no labels: nothing to mark correct or to score per class.</p>';

function curves(dir: string): string {
  const path = join(dir, FILES.metrics);
  if (!existsSync(path)) return '<p class="empty">No metrics.jsonl in the run folder.</p>';
  const rows = readMetrics(path);
  const series = (key: string, name: string, color: string) => ({
    name,
    color,
    points: rows.filter((r) => typeof r[key] === 'number' && typeof r.step === 'number').map((r): [number, number] => [Number(r.step) + 1, Number(r[key])]),
  });
  return `<div class="row">${lineChart('InfoNCE loss', [series('loss', 'loss', '#1f77b4')])}${lineChart('learning rate', [series('lr', 'lr', '#ff7f0e')])}${lineChart('evaluation top-1', [series('knn_top1', 'kNN', '#2ca02c'), series('linear_top1', 'linear probe', '#d62728')], [0, 1])}</div>`;
}

function augmentations(dir: string): string {
  const path = join(dir, FILES.augs);
  if (!existsSync(path)) return '<p class="empty">No augs.png in the run folder.</p>';
  return `<p>Rows: training images; columns: the source, view 1, view 2 (before normalisation).</p><img class="augs" alt="two augmented views per image" src="data:image/png;base64,${readFileSync(path).toString('base64')}">`;
}

/** One image of a data set as a PNG data URI (grey or RGB; channel-first bytes in). */
function imageUri(ds: Dataset, index: number): string {
  const plane = ds.height * ds.width;
  const bytes = ds.images.subarray(index * imageBytes(ds), (index + 1) * imageBytes(ds));
  const channels = ds.channels === 3 ? 3 : 1;
  const data = new Uint8Array(plane * channels);
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) data[p * channels + c] = bytes[c * plane + p];
  return `data:image/png;base64,${Buffer.from(encode({ width: ds.width, height: ds.height, data, channels, depth: 8 })).toString('base64')}`;
}

/** The k training items most cosine-similar to each query row. */
function nearest(bank: Features, query: Features, rows: number[], k: number): number[][] {
  const b = l2Normalize(bank.data, bank.count, bank.dim);
  const q = l2Normalize(query.data, query.count, query.dim);
  return rows.map((row) => {
    const sims = new Float32Array(bank.count);
    for (let n = 0; n < bank.count; n++) {
      let s = 0;
      for (let j = 0; j < bank.dim; j++) s += q[row * bank.dim + j] * b[n * bank.dim + j];
      sims[n] = s;
    }
    return Array.from(sims.keys()).sort((x, y) => sims[y] - sims[x]).slice(0, k);
  });
}

/** Queries spread over the classes: the first test image of each class in turn. */
function pickQueries(labels: Int32Array, count: number): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i].slice(0, count)));
  const lists = [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
  const out: number[] = [];
  for (let round = 0; out.length < Math.min(count, labels.length); round++) for (const l of lists) if (l[round] !== undefined && out.length < count) out.push(l[round]);
  return out;
}

function neighbours(train: Dataset, test: Dataset, f: Record<'trained' | 'initial', { train: Features; test: Features }>, names: (c: number) => string): string {
  const queries = pickQueries(test.labels!, QUERIES);
  const found = { trained: nearest(f.trained.train, f.trained.test, queries, NEIGHBOURS), initial: nearest(f.initial.train, f.initial.test, queries, NEIGHBOURS) };
  const strip = (which: 'trained' | 'initial', q: number, row: number) => {
    const hits = found[which][row];
    const right = hits.filter((n) => train.labels![n] === test.labels![q]).length;
    const cells = hits.map((n) => {
      const ok = train.labels![n] === test.labels![q];
      return `<img class="${ok ? 'ok' : 'bad'}" src="${imageUri(train, n)}" alt="${esc(names(train.labels![n]))}" title="training image ${n}: ${esc(names(train.labels![n]))}${ok ? ' (same class)' : ''}">`;
    });
    return `<td class="strip"><span class="count">${right}/${hits.length}</span>${cells.join('')}</td>`;
  };
  const rows = queries.map((q, row) => `<tr><td><img class="query" src="${imageUri(test, q)}" alt="${esc(names(test.labels![q]))}" title="test image ${q}"><br>${esc(names(test.labels![q]))}</td>${strip('trained', q, row)}${strip('initial', q, row)}</tr>`);
  return `<p>Each test image and its ${NEIGHBOURS} nearest training images by cosine similarity of the features; a green frame marks the same class, red another.</p>
<table class="neighbours"><tr><th>test image</th><th>trained encoder</th><th>random init</th></tr>${rows.join('')}</table>`;
}

function embeddingMap(test: Features, seed: number, names: (c: number) => string): string {
  const count = Math.min(MAP_POINTS, test.count);
  if (count < 3) return '<p class="empty">Too few test images for a map.</p>';
  const normed = l2Normalize(test.data, count, test.dim);
  const rows = Array.from({ length: count }, (_, i) => Array.from(normed.subarray(i * test.dim, (i + 1) * test.dim)));
  const rng = new Rng(seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, count - 1), minDist: 0.1, nEpochs: 200, random: () => rng.next() });
  const xy = umap.fit(rows);
  return `<p>UMAP (umap-js, seed ${seed}) of the trained encoder's L2-normalised features of ${count} test images, coloured by class.</p>${scatter(xy, test.labels.subarray(0, count), names)}`;
}

async function perClass(rt: Runtime, spec: ResolvedSpec, f: { train: Features; test: Features }, classes: number, names: (c: number) => string): Promise<string> {
  const predictions: { name: string; p: Int32Array }[] = [];
  if (spec.eval.knn) {
    const k = Math.min(spec.eval.knn.k, f.train.count);
    predictions.push({ name: `kNN (k=${k})`, p: (await knnClassify(rt, f.train, f.test, { k, temperature: spec.eval.knn.temperature, classes })).predictions });
  }
  if (spec.eval.linear) {
    const probe = await linearProbe(rt, f.train, f.test, { classes, epochs: spec.eval.linear.epochs, lr: spec.eval.linear.lr, seed: spec.train.seed });
    predictions.push({ name: 'linear probe', p: probePredict(probe.probe, f.test) });
  }
  if (!predictions.length) return '<p class="empty">The spec switches off both kNN and the linear probe (eval.knn and eval.linear).</p>';
  const labels = f.test.labels;
  const support = new Int32Array(classes);
  labels.forEach((c) => support[c]++);
  const accuracy = (p: Int32Array, c: number) => {
    let right = 0;
    labels.forEach((l, i) => (right += l === c && p[i] === c ? 1 : 0));
    return support[c] ? right / support[c] : NaN;
  };
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
  const head = `<tr><th>class</th><th>test images</th>${predictions.map((p) => `<th>${esc(p.name)}</th>`).join('')}</tr>`;
  const body = Array.from({ length: classes }, (_, c) => `<tr><td><i class="swatch" style="background:${classColor(c)}"></i>${esc(names(c))}</td><td>${support[c]}</td>${predictions.map((p) => `<td>${pct(accuracy(p.p, c))}</td>`).join('')}</tr>`);
  const chosen = predictions[0];
  const matrix = Array.from({ length: classes }, () => new Int32Array(classes));
  labels.forEach((l, i) => matrix[l][chosen.p[i]]++);
  const max = Math.max(1, ...matrix.map((r) => Math.max(...r)));
  const cm = matrix.map((r, t) => `<tr><th>${esc(names(t))}</th>${Array.from(r, (v, p) => `<td style="background:rgba(31,119,180,${(v / max).toFixed(2)});color:${v / max > 0.5 ? '#fff' : '#000'}" title="true ${esc(names(t))}, predicted ${esc(names(p))}: ${v}">${v}</td>`).join('')}</tr>`);
  return `<table class="per-class">${head}${body.join('')}</table>
<h3>Confusion matrix (${esc(chosen.name)}; rows true class, columns predicted)</h3>
<table class="confusion"><tr><th></th>${Array.from({ length: classes }, (_, c) => `<th>${esc(names(c))}</th>`).join('')}</tr>${cm.join('')}</table>`;
}

function summary(dir: string): string {
  const path = join(dir, FILES.summary);
  if (!existsSync(path)) return '<p class="empty">No summary.json: the run has not finished.</p>';
  try {
    return `<pre>${esc(JSON.stringify(JSON.parse(readFileSync(path, 'utf8')), null, 2))}</pre>`;
  } catch (err) {
    throw new RunFolderError('E0501', `${path} is not valid JSON (${(err as Error).message})`);
  }
}

function page(name: string, dir: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(name)}: simclr-compile run report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1800px}
h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
svg text{font:11px sans-serif;fill:#444}
figure{display:inline-block;margin:0 16px 8px 0}figcaption{text-align:center;color:#555}
.row{display:flex;flex-wrap:wrap}
img{image-rendering:pixelated}
img.augs{max-height:520px;max-width:100%}
table{border-collapse:collapse}td,th{padding:2px 6px;text-align:center}
.neighbours td{border-bottom:1px solid #eee}
.neighbours img{width:36px;height:36px;margin:1px;border:3px solid transparent}
.neighbours img.query{width:48px;height:48px;border-color:#888}
.neighbours img.ok{border-color:#2ca02c}.neighbours img.bad{border-color:#d62728}
.strip{white-space:nowrap}.count{display:inline-block;width:36px;color:#555}
.per-class td,.per-class th{border-bottom:1px solid #eee}
.confusion td{min-width:28px;border:1px solid #fff}
.legend span{margin-right:12px;white-space:nowrap}.legend i,.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
pre{background:#f6f6f6;padding:8px;max-height:420px;overflow:auto}
.empty{color:#888}
</style></head><body>
<h1>${esc(name)}</h1><p>Run folder <code>${esc(dir)}</code></p>
${body}
</body></html>
`;
}
