// The main job: a resolved spec in, a trained encoder, its evaluation and a run folder out.
// Each step is one device submission (augment → forward → backward → update); the host reads back
// only the loss (a data-parallel step, src/train/data-parallel.ts, submits between its collectives).
// Checkpoints are atomic; resuming from one replays exactly the same later steps, since the batch
// order and the augmentation draws are functions of (seed, step) alone.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderPreview } from '../augment/index.js';
import { compile, type Compiled, type TrainingSpec } from '../compiler/compile.js';
import { chunkFlops, formatChunking } from '../compiler/output.js';
import { BatchLoader, HELD_OUT_FRACTION, openDataset, type Dataset } from '../data/index.js';
import { evaluateEncoder, type EvalData, type EvalResult } from '../eval/evaluate.js';
import type { Collectives } from '../dist/collectives.js';
import { StepExecutor } from '../gpu/executor.js';
import { runtime, type Runtime } from '../gpu/runtime.js';
import { optimizerFor, stepScalars } from '../ir/optimizer.js';
import { renderChart } from '../picture/chart.js';
import type { ResolvedSpec } from '../spec/index.js';
import { dataParallelEngine, singleEngine } from './data-parallel.js';
import { checkTensors, CheckpointError, readCheckpoint, readLatestCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkPrecision, LossScaleWatch, lossScalePanel } from './loss-scale.js';
import { MetricsLog, readMetrics } from './metrics.js';
import { Progress, type Out } from './progress.js';
import { FILES, newRunFolder, readRunSpec, writeAtomic, writeJson } from './run-folder.js';
import { lrAt, makeSchedule } from './schedule.js';
import { runV2Phases, type V2Summary } from './v2.js';

export interface RunOptions {
  /** The run folder (default: train.out/NAME-TIMESTAMP). */
  out?: string;
  /** Continue the run in this folder from its last checkpoint (its spec.json is the spec). */
  resume?: string;
  /** Stop (with a checkpoint) after this global step, to continue later with `resume`. */
  stopAfter?: number;
  json?: boolean;
  /** Ctrl-C: the run writes a checkpoint at the current step and returns. */
  signal?: AbortSignal;
  /** Text progress and messages (default stderr); JSON lines go to `jsonOut` (default stdout). */
  out_stream?: Out;
  jsonOut?: Out;
  /** This process's place in a job of several: the step becomes data-parallel (src/train/data-parallel.ts); rank 0 runs `train`. */
  collectives?: Collectives;
}

export interface RunSummary extends V2Summary {
  run_dir: string;
  status: 'finished' | 'stopped' | 'interrupted';
  steps: number;
  total_steps: number;
  final_loss: number;
  images_per_s: number;
  wall_s: number;
  knn_top1: number | null;
  random_init_knn_top1: number | null;
  linear_top1: number | null;
  random_init_linear_top1: number | null;
  trained: EvalResult | null;
  random_init: EvalResult | null;
  /** Images of each side where the splits were carved from one image folder, else null. */
  held_out: { train: number; test: number } | null;
  /**
   * The training step's device memory: the compiled plan's peak, and the most bytes live at once
   * in the runtime's buffers from creating the step to its last step (uniforms, read-back buffers
   * and any evaluation run between epochs included), over what was live before.
   */
  memory?: { precision: 'f32' | 'f16'; planned_bytes: number; measured_peak_bytes: number };
  /** How the step was split into chunks of images (src/ir/chunk.ts), when it was. */
  chunking?: { chunk: number; chunks: number; reason: string; extra_forwards: number; recompute_flops: number; step_flops: number; unchunked_planned_bytes?: number };
}

function chunkingSummary({ chunking: c, kernels }: Compiled): Pick<RunSummary, 'chunking'> {
  if (!c) return {};
  const flops = chunkFlops(kernels);
  const unchunked = c.unchunkedPeakBytes === undefined ? {} : { unchunked_planned_bytes: c.unchunkedPeakBytes };
  return { chunking: { chunk: c.chunk, chunks: c.chunks, reason: c.reason, extra_forwards: c.chunks - 1, recompute_flops: flops.recompute, step_flops: flops.total, ...unchunked } };
}

/** The loss or a weight became NaN or infinite: the run stops and the last finite checkpoint stays. */
export class DivergedError extends Error {
  constructor(
    readonly step: number,
    what: string,
    dir: string,
  ) {
    super(`${what} became non-finite at step ${step}; training stopped. The last good checkpoint is kept in ${dir}. Lower the learning rate or check the data.`);
    this.name = 'DivergedError';
  }
}

export async function train(given: ResolvedSpec | undefined, options: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const rt = await runtime();
  const spec = options.resume ? readRunSpec(options.resume) : given;
  if (!spec) throw new Error('train needs a spec or a run folder to resume');
  const dir = options.resume ?? newRunFolder(spec, options.out);
  const checkpointPath = join(dir, FILES.checkpoint);
  const warnings: string[] = [];
  const latest = options.resume ? readLatestCheckpoint(checkpointPath, join(dir, FILES.previous), (w) => warnings.push(w)) : undefined;
  const resumed = latest?.checkpoint;
  const startStep = resumed ? checkpointStep(latest.path, resumed) : 0;
  if (!resumed) writeJson(join(dir, FILES.spec), spec);

  const { dataset, batchSize, loader, totalSteps, schedule, stepSpec } = trainingPlan(spec, startStep);
  checkPrecision(spec.train.precision, rt.target);
  const compiled = compile(stepSpec, { target: rt.target });
  if (latest) checkTensors(latest.path, latest.checkpoint, compiled.graph);
  const initial = resumed && tensorsOf(resumed.tensors);
  const processes = options.collectives?.size ?? 1;
  rt.resetPeak();
  const floor = rt.memory.liveBytes;
  const single = processes > 1 ? undefined : await StepExecutor.create(rt, compiled.kernels, { seed: spec.train.seed, initial });
  const executor = single ? singleEngine(single) : await dataParallelEngine(rt, spec, stepSpec, compiled, options.collectives!, initial);
  const scaler = single && (await LossScaleWatch.attach(single));
  const digest = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  const snapshot = async (step: number): Promise<Checkpoint> => {
    const tensors: Checkpoint['tensors'] = {};
    for (const name of executor.persistentNames) {
      const data = await executor.read(name);
      tensors[name] = { shape: executor.shapeOf(name) ?? [data.length], data };
    }
    return { tensors, metadata: { step: String(step), seed: String(spec.train.seed), spec_sha256: digest, format: 'simclr-compile/1' } };
  };
  // Weights can overflow a step before the loss shows it: a checkpoint is written only when finite.
  const save = async (path: string, step: number): Promise<Checkpoint> => {
    const checkpoint = await snapshot(step);
    for (const [name, t] of Object.entries(checkpoint.tensors)) if (!t.data.every(Number.isFinite)) throw new DivergedError(step, name, dir);
    writeCheckpoint(path, checkpoint, path === checkpointPath ? join(dir, FILES.previous) : undefined);
    return checkpoint;
  };
  if (!resumed) await save(join(dir, FILES.init), 0);

  const progress = new Progress({ totalSteps, stepsPerEpoch: loader.stepsPerEpoch, batchSize, logEvery: spec.train.log_every, json: options.json, out: options.out_stream, jsonOut: options.jsonOut, startStep });
  const say = (text: string) => progress.message(text);
  for (const warning of warnings) say(warning);
  for (const warning of notRunYet(spec, processes)) say(`warning: ${warning}`);
  if (spec.data.split === 'test') say('warning: data.split is test: pre-training on the evaluation images makes the kNN and linear-probe figures measure images the encoder trained on');
  if (dataset.heldOut) {
    const { train: kept, test: held } = dataset.heldOut;
    say(`data: ${spec.data.path} has no train/ and test/ sub-folders: ${held} of its ${kept + held} images (${100 * HELD_OUT_FRACTION}% of each class, seeded) are held out for evaluation, ${kept} train`);
  }
  if (compiled.chunking) say(formatChunking(compiled.chunking, chunkFlops(compiled.kernels)));
  const steps = startStep < totalSteps ? `steps ${startStep + 1}–${totalSteps}` : `training done (${totalSteps} steps), evaluating`;
  say(`${resumed ? 'resuming' : 'training'} ${spec.name}: ${dataset.name}, ${dataset.count} images, batch ${batchSize}, ${steps}; run folder ${dir}`);
  const metrics = MetricsLog.open(join(dir, FILES.metrics), startStep);
  const endStep = Math.min(totalSteps, options.stopAfter ?? totalSteps);
  let step = startStep;
  let loss = NaN;
  let evalData: EvalData | undefined;
  let last: Checkpoint;
  const trainStart = performance.now();
  // Several processes stop after the same step: the one where the interrupt reached the all-reduce.
  const interrupted = () => (executor.stopping ?? false) || (processes === 1 && !!options.signal?.aborted);
  const onAbort = () => executor.requestStop?.();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();
  try {
    for (; step < endStep && !interrupted(); step++) {
      const batch = await loader.next();
      const lr = lrAt(schedule, step);
      loss = await executor.step(batch.images as Uint8Array, stepScalars(stepSpec.optimizer, step + 1, lr, spec.train.seed));
      // An f16 step that overflowed was skipped on the device: its loss may be inf, its weights are not.
      const skipped = (await scaler?.afterStep(step + 1)) ?? false;
      if (!Number.isFinite(loss) && !skipped) throw new DivergedError(step + 1, `the loss (${loss})`, dir);
      const line = progress.update({ step, loss, lr });
      if (line) metrics.append({ ...line, ...scaler?.logged() });
      const every = spec.train.checkpoint_every;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < endStep) await save(checkpointPath, step + 1);
      const epochsDone = (step + 1) / loader.stepsPerEpoch;
      const due = Number.isInteger(epochsDone) && step + 1 < totalSteps ? dueEvaluations(spec, epochsDone) : undefined;
      if (due && (due.knn || due.linear)) {
        const weights = tensorsOf((await snapshot(step + 1)).tensors);
        evalData ??= { train: openDataset(spec.data, 'train'), test: openDataset(spec.data, spec.data.eval_split) };
        const result = await evaluateEncoder(rt, { ...spec, eval: due }, weights, evalData, (t) => say(`  epoch ${epochsDone}: ${t}`));
        metrics.append({ step, epoch: epochsDone, knn_top1: result.knn_top1, linear_top1: result.linear_top1 });
      }
    }
    last = await save(checkpointPath, step);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    progress.finish();
  }
  let imagesPerS = ((step - startStep) * batchSize) / Math.max(1e-9, (performance.now() - trainStart) / 1000);
  // A resume after the last step (killed during the final evaluation) trained nothing itself: the
  // training's own figures are the last ones it logged.
  if (step === startStep && startStep > 0) ({ loss, imagesPerS } = loggedFigures(join(dir, FILES.metrics), loss, imagesPerS));
  const memory = { precision: spec.train.precision ?? 'f32', planned_bytes: compiled.kernels.memory.plannedBytes, measured_peak_bytes: rt.memory.peakBytes - floor } as const;
  const chunking = chunkingSummary(compiled);
  const status = step >= totalSteps ? 'finished' : options.signal?.aborted || executor.stopping ? 'interrupted' : 'stopped';
  if (status !== 'finished') {
    executor.destroy();
    say(`${status} after step ${step}; checkpoint written. Continue with: simclr-compile run --resume ${dir}`);
    return { ...summary(dir, status, step, totalSteps, loss, imagesPerS, started, null, null, dataset), memory, ...chunking };
  }
  const weights = tensorsOf(last.tensors);
  executor.destroy();
  await writePictures(rt, spec, dataset, dir);
  const { trained, baseline } = await evaluateRun(rt, spec, weights, tensorsOf(readCheckpoint(join(dir, FILES.init)).tensors), say, evalData);
  const result: RunSummary = { ...summary(dir, status, step, totalSteps, loss, imagesPerS, started, trained, baseline, dataset), memory, ...chunking, ...(await runV2Phases(rt, spec, dir, weights, say)) };
  writeJson(join(dir, FILES.summary), result);
  metrics.append({ step: step - 1, epoch: step / loader.stepsPerEpoch, knn_top1: trained?.knn_top1, linear_top1: trained?.linear_top1 });
  await writeCurves(dir);
  return result;
}

/**
 * The data, its batches from `startStep` on, the step count and schedule, and the step's optimizer
 * (its learning rate scaled for the global batch): the same on every process of a job.
 */
export function trainingPlan(spec: ResolvedSpec, startStep: number) {
  const dataset = openDataset(spec.data);
  const batchSize = spec.train.batch_size;
  const loader = new BatchLoader(dataset, { batchSize, seed: spec.train.seed, startStep });
  // The resolver gives every spec without `steps` its `epochs`.
  const totalSteps = spec.train.steps ?? spec.train.epochs! * loader.stepsPerEpoch;
  const schedule = makeSchedule({ optimizer: spec.optimizer, schedule: spec.schedule, batchSize, stepsPerEpoch: loader.stepsPerEpoch, totalSteps });
  const stepSpec: TrainingSpec = { ...spec, optimizer: optimizerFor(spec.optimizer, batchSize) };
  return { dataset, batchSize, loader, totalSteps, schedule, stepSpec };
}

/** Spec parts `run` accepts but does not act on yet: said at the start, never silently dropped. */
export function notRunYet(spec: ResolvedSpec, processes = 1): string[] {
  const out: string[] = [];
  if (spec.train.devices > 1 && spec.train.devices !== processes) out.push(`train.devices ${spec.train.devices}, but this run has ${processes} process(es), one device each (start more with --devices N or mpirun -np N)`);
  if (spec.train.sync_batchnorm === false && processes > 1) out.push("train.sync_batchnorm is false: each process's BatchNorm normalises by its own images' statistics, so the result differs from one process");
  return out;
}

/** Evaluation during training: the spec's `every` (in epochs) for kNN and the linear probe. */
function dueEvaluations(spec: ResolvedSpec, epochsDone: number): ResolvedSpec['eval'] {
  const due = <T extends { every: number }>(e: T | false) => (e && e.every > 0 && epochsDone % e.every === 0 ? e : false);
  return { knn: due(spec.eval.knn), linear: due(spec.eval.linear) };
}

/** Trained encoder and the same architecture at its initial weights, on the same data. */
export async function evaluateRun(
  rt: Runtime,
  spec: ResolvedSpec,
  weights: Record<string, Float32Array>,
  initial: Record<string, Float32Array>,
  say: (t: string) => void,
  opened?: EvalData,
) {
  if (!spec.eval.knn && !spec.eval.linear) return { trained: null, baseline: null };
  const data = opened ?? { train: openDataset(spec.data, 'train'), test: openDataset(spec.data, spec.data.eval_split) };
  say(`evaluating on ${data.test.name} (${data.test.count} images; ${data.train.count} labelled training images)`);
  const trained = await evaluateEncoder(rt, spec, weights, data, (t) => say(`  trained:     ${t}`));
  const baseline = await evaluateEncoder(rt, spec, initial, data, (t) => say(`  random init: ${t}`));
  return { trained, baseline };
}

/** The last logged loss and throughput of a run's training, in place of those of a resume that trained no step. */
function loggedFigures(path: string, loss: number, imagesPerS: number): { loss: number; imagesPerS: number } {
  const logged = readMetrics(path).filter((r) => typeof r.loss === 'number');
  const last = logged[logged.length - 1];
  if (!last) return { loss, imagesPerS };
  return { loss: last.loss as number, imagesPerS: typeof last.images_per_s === 'number' ? last.images_per_s : imagesPerS };
}

/** The global step a checkpoint was written at: a count within the run, or the file is not one of this run's. */
export function checkpointStep(path: string, checkpoint: Checkpoint): number {
  const step = Number(checkpoint.metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(path, `its metadata step ${JSON.stringify(checkpoint.metadata.step)} is not a step number`);
  return step;
}

export function tensorsOf(tensors: Checkpoint['tensors']): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.data]));
}

function summary(
  dir: string,
  status: RunSummary['status'],
  steps: number,
  totalSteps: number,
  loss: number,
  imagesPerS: number,
  started: number,
  trained: EvalResult | null,
  baseline: EvalResult | null,
  dataset: Dataset,
): RunSummary {
  return {
    run_dir: dir,
    status,
    steps,
    total_steps: totalSteps,
    final_loss: loss,
    images_per_s: Math.round(imagesPerS * 10) / 10,
    wall_s: Math.round((performance.now() - started) / 100) / 10,
    knn_top1: trained?.knn_top1 ?? null,
    random_init_knn_top1: baseline?.knn_top1 ?? null,
    linear_top1: trained?.linear_top1 ?? null,
    random_init_linear_top1: baseline?.linear_top1 ?? null,
    trained,
    random_init: baseline,
    held_out: dataset.heldOut ?? null,
  };
}

/** The augmentation grid: what the two views of eight training images looked like. */
async function writePictures(rt: Runtime, spec: ResolvedSpec, dataset: Dataset, dir: string): Promise<void> {
  const preview = await renderPreview(rt, spec.augment, dataset, 8, spec.train.seed);
  writeAtomic(join(dir, FILES.augs), preview.png);
}

/** Loss, learning rate and evaluation accuracy against step, from metrics.jsonl (so a resumed run draws its whole history). */
export async function writeCurves(dir: string): Promise<void> {
  const path = join(dir, FILES.metrics);
  if (!existsSync(path)) return;
  const records = readMetrics(path);
  const points = (key: string) => records.filter((r) => typeof r[key] === 'number').map((r) => [Number(r.step) + 1, Number(r[key])] as [number, number]);
  const panels = [
    { title: 'contrastive loss', xLabel: 'step', series: [{ name: 'infonce', points: points('loss') }] },
    { title: 'learning rate', xLabel: 'step', series: [{ name: 'lr', points: points('lr') }] },
  ];
  const accuracy = [
    { name: 'knn top-1', points: points('knn_top1') },
    { name: 'linear top-1', points: points('linear_top1') },
  ].filter((series) => series.points.length);
  if (accuracy.length) panels.push({ title: 'evaluation', xLabel: 'step', series: accuracy });
  panels.push(...lossScalePanel(records));
  writeAtomic(join(dir, FILES.curves), renderChart(panels));
}
