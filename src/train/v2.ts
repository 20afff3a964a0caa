// SimCLR v2's phases after pre-training, each in its own sub-folder of the run folder (checkpoint,
// metrics.jsonl, curves.png, result.json): fine-tuning the pre-trained encoder and head up to
// `from_layer` on a labelled fraction, the same network from scratch on the same labels and
// schedule, the linear probe on the same labels, then distillation of the fine-tuned network into a
// student. Every choice made during a phase (its best epoch) is made on the validation split held out
// of the training split; the test split is only reported.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compilePhase } from '../compiler/compile.js';
import { BatchLoader, classCount, imageBytes, openDataset, type Dataset } from '../data/index.js';
import { labelledSubset, pick, splitValidation } from '../data/labels.js';
import { mixSeed, permutation, Rng } from '../data/rng.js';
import { extractFeatures } from '../eval/features.js';
import { linearProbe } from '../eval/linear-probe.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import type { EncoderLayer, ModelSpec } from '../ir/model-spec.js';
import { stepScalars } from '../ir/optimizer.js';
import { buildPhase, type PhaseSpec } from '../ir/phase.js';
import { classifierLogitsPhase, distillPhase, finetunePhase, type SupervisedOptions } from '../ir/phases.js';
import { renderChart } from '../picture/chart.js';
import { CodedError, type ResolvedSpec } from '../spec/index.js';
import { CheckpointError, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { MetricsLog, readMetrics } from './metrics.js';
import { FILES, readRunSpec, writeAtomic, writeJson } from './run-folder.js';

export interface FinetuneSummary {
  label_fraction: number;
  labelled_images: number;
  top1: number;
  scratch_top1: number;
  linear_top1: number;
  val_top1: number;
}

export interface DistillSummary {
  top1: number;
  teacher_top1: number;
  agreement: number;
  student_params: number;
  teacher_params: number;
}

export interface V2Summary {
  finetune?: FinetuneSummary;
  distill?: DistillSummary;
}

/** Sub-folders of the run folder, one a phase. */
export const PHASE_DIRS = { finetune: 'finetune', scratch: 'finetune-scratch', distill: 'distill' } as const;
/** The weights of a phase's best epoch by validation accuracy: what is reported and what teaches. */
const BEST = 'best.safetensors';
/** Seed stream of distill.limit's subset, apart from the validation and label draws. */
const DISTILL_STREAM = 0xd157;
const RESULT = 'result.json';
/** Images per inference pass (validation, test, agreement). */
const EVAL_BATCH = 256;

/** Optimizer moments do not carry over from pre-training into a new phase: only weights and BN statistics. */
const MOMENT = /\.(momentum|exp_avg|exp_avg_sq)$/;
const weightsOnly = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).filter(([k]) => !MOMENT.test(k)));

interface V2Data {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  labelled: Dataset;
  classes: number;
}

/** The splits every v2 phase of a run reads: one validation hold-out and one labelled subset. */
function openV2Data(spec: ResolvedSpec): V2Data {
  const full = openDataset(spec.data, 'train');
  const test = openDataset(spec.data, spec.data.eval_split);
  const classes = Math.max(classCount(full), classCount(test));
  const { train, val } = splitValidation(full, spec.data.val_fraction, spec.train.seed);
  const fraction = spec.finetune?.label_fraction ?? 1;
  return { train, val, test, labelled: labelledSubset(train, fraction, classes, spec.train.seed), classes };
}

/** Runs the spec's finetune and distill sections after pre-training (`pretrained`: the encoder's weights). */
export async function runV2Phases(rt: Runtime, spec: ResolvedSpec, dir: string, pretrained: Record<string, Float32Array>, say: (t: string) => void): Promise<V2Summary> {
  if (!spec.finetune && !spec.distill) return {};
  const data = openV2Data(spec);
  say(`v2 data: ${data.train.count} training images, ${data.val.count} held out for validation, ${data.labelled.count} labelled (${data.classes} classes), ${data.test.count} test images`);
  const out: V2Summary = {};
  if (spec.finetune) out.finetune = await finetuneAll(rt, spec, dir, pretrained, data, say);
  if (spec.distill) out.distill = await distill(rt, spec, dir, data, say);
  return out;
}

/** `simclr-compile finetune RUN_DIR`: fine-tuning (with its from-scratch and linear-probe baselines) on a finished run. */
export async function finetuneRun(rt: Runtime, spec: ResolvedSpec, dir: string, say: (t: string) => void): Promise<FinetuneSummary> {
  if (!spec.finetune) throw new CodedError('E0501', dir, 'the spec has no finetune section (add one with --set finetune.label_fraction=0.1)');
  return finetuneAll(rt, spec, dir, pretrainedOf(dir), openV2Data(spec), say);
}

/** `simclr-compile distill RUN_DIR`: distillation on a run (its fine-tuned network, or distill.teacher). */
export async function distillRun(rt: Runtime, spec: ResolvedSpec, dir: string, say: (t: string) => void): Promise<DistillSummary> {
  if (!spec.distill) throw new CodedError('E0501', dir, 'the spec has no distill section (add one with --set distill.temperature=1)');
  return distill(rt, spec, dir, openV2Data(spec), say);
}

function pretrainedOf(dir: string): Record<string, Float32Array> {
  const path = join(dir, FILES.checkpoint);
  if (!existsSync(path)) throw new CodedError('E0501', dir, `not a finished run: it has no ${FILES.checkpoint}`);
  return tensorsOf(readCheckpoint(path));
}

const tensorsOf = (c: Checkpoint) => Object.fromEntries(Object.entries(c.tensors).map(([k, t]) => [k, t.data]));

async function finetuneAll(rt: Runtime, spec: ResolvedSpec, dir: string, pretrained: Record<string, Float32Array>, data: V2Data, say: (t: string) => void): Promise<FinetuneSummary> {
  const f = spec.finetune!;
  const options = { type: f.optimizer, lr: f.lr, momentum: f.momentum, fromLayer: f.from_layer, zeroInit: f.zero_init };
  const phase = (batch: number) => finetunePhase(spec, batch, data.classes, options);
  const logits = (batch: number, augment = false) => classifierLogitsPhase(spec, batch, data.classes, f.from_layer, augment);
  const schedule = { epochs: f.epochs, lr: f.lr, batch: f.batch_size, seed: spec.train.seed };
  const config = JSON.stringify({ finetune: f, val_fraction: spec.data.val_fraction, seed: spec.train.seed });
  say(`fine-tuning from head layer ${f.from_layer} on ${data.labelled.count} labelled images (${100 * f.label_fraction}%), ${f.epochs} epochs`);
  const tuned = await supervised(rt, join(dir, PHASE_DIRS.finetune), { phase, logits, options, schedule, data: data.labelled, val: data.val, test: data.test, initial: weightsOnly(pretrained), config }, say);
  say('the same network from scratch, on the same labels and schedule');
  const scratch = await supervised(rt, join(dir, PHASE_DIRS.scratch), { phase, logits, options, schedule, data: data.labelled, val: data.val, test: data.test, initial: {}, config }, say);
  const probe = await probeOnSubset(rt, spec, pretrained, data);
  say(`fine-tuned ${pct(tuned.test_top1)} · from scratch ${pct(scratch.test_top1)} · linear probe ${pct(probe)} (test top-1, ${data.labelled.count} labels)`);
  return { label_fraction: f.label_fraction, labelled_images: data.labelled.count, top1: tuned.test_top1, scratch_top1: scratch.test_top1, linear_top1: probe, val_top1: tuned.val_top1 };
}

/** The linear probe on frozen pre-trained features of the same labelled subset. */
async function probeOnSubset(rt: Runtime, spec: ResolvedSpec, weights: Record<string, Float32Array>, data: V2Data): Promise<number> {
  const train = await extractFeatures(rt, spec, weights, data.labelled);
  const test = await extractFeatures(rt, spec, weights, data.test);
  // eval.linear false switches off the end-of-run probe on every label, not this one: it then
  // trains with eval.linear's schema defaults (10 epochs at 0.1).
  const linear = spec.eval.linear || { epochs: 10, lr: 0.1 };
  return (await linearProbe(rt, train, test, { classes: data.classes, epochs: linear.epochs, lr: linear.lr, seed: spec.train.seed })).top1;
}

interface SupervisedJob {
  /** The training step at a batch size, and the inference pass (augmented: a teacher's draws). */
  phase(batch: number): PhaseSpec;
  logits(batch: number, augment?: boolean): PhaseSpec;
  options: SupervisedOptions;
  schedule: { epochs: number; lr: number; batch: number; seed: number };
  data: Dataset;
  val: Dataset;
  test: Dataset;
  initial: Record<string, Float32Array>;
  /**
   * The settings the phase's folder was made with (its spec section, the split): a folder made with
   * others (a `--set` of another label fraction) is trained afresh, never resumed or reused.
   */
  config: string;
  /** Distillation: each step's teacher logits (and the augmentation draws the student replays). */
  teacher?: (images: Uint8Array, step: number) => Promise<{ logits: Float32Array; records: Float32Array }>;
}

interface SupervisedResult {
  val_top1: number;
  test_top1: number;
  weights: Record<string, Float32Array>;
  params: number;
}

/**
 * A supervised phase in `folder`: momentum SGD or LARS with a cosine rate and no warmup, a checkpoint
 * and a validation accuracy every epoch, the best epoch's weights kept (best.safetensors) and
 * reported on the test split. A folder holding result.json is done; one holding a checkpoint resumes
 * after that checkpoint's epoch.
 */
async function supervised(rt: Runtime, folder: string, job: SupervisedJob, say: (t: string) => void): Promise<SupervisedResult> {
  mkdirSync(folder, { recursive: true });
  const resultPath = join(folder, RESULT);
  const step = job.phase(Math.min(job.schedule.batch, job.data.count));
  const params = countParams(step);
  const done = existsSync(resultPath) && existsSync(join(folder, BEST)) ? readResult(resultPath) : undefined;
  if (done?.config === job.config) {
    say(`  ${folder}: done earlier (test top-1 ${pct(done.test_top1)})`);
    return { ...done, weights: tensorsOf(readCheckpoint(join(folder, BEST))), params };
  }
  const batch = step.input.shape[0];
  const loader = new BatchLoader(job.data, { batchSize: batch, seed: job.schedule.seed });
  const total = job.schedule.epochs * loader.stepsPerEpoch;
  const checkpointPath = join(folder, FILES.checkpoint);
  const saved = existsSync(checkpointPath) ? readCheckpoint(checkpointPath) : undefined;
  const resumed = saved?.metadata.config === job.config ? saved : undefined;
  if (saved && !resumed) say(`  ${folder}: its checkpoint was made with other settings; training afresh`);
  const startEpoch = resumed ? Number(resumed.metadata.epoch) : 0;
  if (resumed) say(`  ${folder}: resuming after epoch ${startEpoch}/${job.schedule.epochs}`);
  let best = resumed ? { epoch: Number(resumed.metadata.best_epoch), val: Number(resumed.metadata.best_val) } : { epoch: -1, val: -1 };
  const ex = await StepExecutor.create(rt, compilePhase(step, rt.target).kernels, { seed: job.schedule.seed, initial: resumed ? tensorsOf(resumed) : job.initial });
  const metrics = MetricsLog.open(join(folder, FILES.metrics), startEpoch * loader.stepsPerEpoch);
  const labels = new Float32Array(batch);
  const weights = async () => {
    const out: Record<string, Float32Array> = {};
    for (const name of ex.persistentNames) out[name] = await ex.read(name);
    return out;
  };
  try {
    for (let epoch = startEpoch; epoch < job.schedule.epochs; epoch++) {
      let sum = 0;
      for (let s = 0; s < loader.stepsPerEpoch; s++) {
        const at = epoch * loader.stepsPerEpoch + s;
        const b = loader.batchAt(at);
        const images = b.images as Uint8Array;
        const lr = job.schedule.lr * 0.5 * (1 + Math.cos((Math.PI * at) / total));
        ex.write('images', images);
        if (job.teacher) {
          const t = await job.teacher(images, at);
          ex.write('teacher_logits', t.logits);
          ex.write('records', t.records);
        }
        if (!job.teacher || step.loss!.attrs.alpha !== 1) {
          b.labels!.forEach((l, i) => (labels[i] = l));
          ex.write('labels', labels);
        }
        ex.setStep(stepScalars(step.optimizer!, at + 1, lr, job.schedule.seed));
        ex.record();
        const loss = (await ex.read('loss'))[0];
        if (!Number.isFinite(loss)) throw new Error(`${folder}: the loss became ${loss} at step ${at + 1}; lower the learning rate`);
        sum += loss;
        metrics.append({ step: at, epoch: epoch + (s + 1) / loader.stepsPerEpoch, loss, lr });
      }
      const now = await weights();
      const val = accuracy(await predict(rt, job.logits, now, job.val), job.val);
      metrics.append({ step: (epoch + 1) * loader.stepsPerEpoch - 1, epoch: epoch + 1, val_top1: val });
      say(`  ${folder} epoch ${epoch + 1}/${job.schedule.epochs}: loss ${(sum / loader.stepsPerEpoch).toFixed(4)}, validation top-1 ${pct(val)}`);
      if (val > best.val) {
        best = { epoch: epoch + 1, val };
        writeCheckpoint(join(folder, BEST), checkpointOf(now, { epoch: String(epoch + 1), val_top1: String(val), config: job.config }));
      }
      writeCheckpoint(checkpointPath, checkpointOf(now, { epoch: String(epoch + 1), best_epoch: String(best.epoch), best_val: String(best.val), config: job.config }));
    }
  } finally {
    ex.destroy();
  }
  const bestWeights = tensorsOf(readCheckpoint(join(folder, BEST)));
  const test = accuracy(await predict(rt, job.logits, bestWeights, job.test), job.test);
  const result = { val_top1: best.val, test_top1: test, best_epoch: best.epoch, config: job.config };
  writeJson(resultPath, result);
  writeCurves(folder);
  say(`  ${folder}: best epoch ${best.epoch} by validation (${pct(best.val)}), test top-1 ${pct(test)}`);
  return { ...result, weights: bestWeights, params };
}

function readResult(path: string): { val_top1: number; test_top1: number; config?: string } {
  let value: { val_top1?: unknown; test_top1?: unknown; config?: string };
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CodedError('E0501', path, `not JSON (${(err as Error).message}); delete it to run the phase again`);
  }
  if (typeof value?.test_top1 !== 'number' || typeof value?.val_top1 !== 'number') throw new CodedError('E0501', path, 'not a phase result (test_top1 and val_top1 numbers); delete it to run the phase again');
  return value as { val_top1: number; test_top1: number; config?: string };
}

function checkpointOf(weights: Record<string, Float32Array>, metadata: Record<string, string>): Checkpoint {
  const tensors: Checkpoint['tensors'] = {};
  for (const [name, data] of Object.entries(weights)) tensors[name] = { shape: [data.length], data };
  return { tensors, metadata: { ...metadata, format: 'simclr-compile/1' } };
}

/** Trainable parameters of a phase's network (what a student saves over its teacher). */
function countParams(p: PhaseSpec): number {
  return buildPhase({ ...p, loss: undefined, optimizer: undefined }).params.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** Each image's predicted class: the logits pass in batches, the last one padded with earlier images. */
async function predict(rt: Runtime, logits: (batch: number) => PhaseSpec, weights: Record<string, Float32Array>, data: Dataset): Promise<Int32Array> {
  const batch = Math.min(EVAL_BATCH, data.count);
  const ex = await StepExecutor.create(rt, compilePhase(logits(batch), rt.target).kernels, { initial: weights });
  const per = imageBytes(data);
  const out = new Int32Array(data.count);
  try {
    for (let first = 0; first < data.count; first += batch) {
      const start = Math.min(first, data.count - batch);
      ex.write('images', data.images.subarray(start * per, (start + batch) * per));
      ex.record();
      const z = await ex.read('logits');
      const classes = z.length / batch;
      for (let r = first - start; r < batch; r++) {
        let top = 0;
        for (let c = 1; c < classes; c++) if (z[r * classes + c] > z[r * classes + top]) top = c;
        out[start + r] = top;
      }
    }
  } finally {
    ex.destroy();
  }
  return out;
}

function accuracy(predicted: Int32Array, data: Dataset): number {
  let right = 0;
  for (let i = 0; i < data.count; i++) if (predicted[i] === data.labels![i]) right++;
  return right / data.count;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** curves.png of a phase: its training loss and validation accuracy against step. */
function writeCurves(folder: string): void {
  const records = readMetrics(join(folder, FILES.metrics));
  const points = (key: string) => records.filter((r) => typeof r[key] === 'number').map((r) => [Number(r.step) + 1, Number(r[key])] as [number, number]);
  writeAtomic(
    join(folder, FILES.curves),
    renderChart([
      { title: 'training loss', xLabel: 'step', series: [{ name: 'loss', points: points('loss') }] },
      { title: 'validation accuracy', xLabel: 'step', series: [{ name: 'val top-1', points: points('val_top1') }] },
    ]),
  );
}

/** A seeded subset of `limit` images (all when absent), in the split's order. */
function limited(ds: Dataset, limit: number | undefined, seed: number): Dataset {
  if (limit === undefined || limit >= ds.count) return ds;
  const chosen = permutation(ds.count, new Rng(mixSeed(seed, DISTILL_STREAM))).slice(0, limit).sort();
  return pick(ds, chosen, `${ds.name} (${limit} images)`);
}

/** The teacher's encoder with every conv/linear width scaled by `width` (rounded, at least 1). */
export function scaleWidth(layers: EncoderLayer[], width: number): EncoderLayer[] {
  return layers.map((layer): EncoderLayer => {
    if (layer.type === 'conv' || layer.type === 'linear') return { ...layer, out: Math.max(1, Math.round(layer.out * width)) };
    if (layer.type === 'residual') return { ...layer, body: scaleWidth(layer.body, width), shortcut: scaleWidth(layer.shortcut, width) };
    return layer;
  });
}

interface Teacher {
  spec: ModelSpec;
  fromLayer: number;
  weights: Record<string, Float32Array>;
  /** Where it came from, for messages. */
  source: string;
}

/**
 * distill.teacher: `finetune` (this run's fine-tuned network), a run folder (its finetune/ best
 * weights, its spec's architecture) or a checkpoint file of a network of this spec's architecture.
 * Anything else is E0310, naming the path.
 */
function openTeacher(spec: ResolvedSpec, dir: string): Teacher {
  const given = spec.distill!.teacher;
  const fromLayer = (s: ResolvedSpec) => s.finetune?.from_layer ?? 0;
  const bestOf = (runDir: string, s: ResolvedSpec, source: string): Teacher => {
    const path = join(runDir, PHASE_DIRS.finetune, BEST);
    if (!existsSync(path)) throw new CodedError('E0310', runDir, `has no fine-tuned network (${join(PHASE_DIRS.finetune, BEST)}): fine-tune it first (simclr-compile finetune ${runDir})`);
    return { spec: s, fromLayer: fromLayer(s), weights: tensorsOf(readCheckpoint(path)), source };
  };
  if (given === 'finetune') return bestOf(dir, spec, 'this run\'s fine-tuned network');
  if (!existsSync(given)) throw new CodedError('E0310', given, 'distill.teacher: no such run folder or checkpoint file');
  if (statSync(given).isDirectory()) {
    if (!existsSync(join(given, FILES.spec))) throw new CodedError('E0310', given, `distill.teacher: a folder that is not a run folder (it has no ${FILES.spec})`);
    return bestOf(given, readRunSpec(given), given);
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = readCheckpoint(given);
  } catch (err) {
    if (err instanceof CheckpointError) throw new CodedError('E0310', given, `distill.teacher is not a checkpoint: ${err.message}`);
    throw err;
  }
  if (!checkpoint.tensors['classifier.weight']) throw new CodedError('E0310', given, 'distill.teacher: a checkpoint without a classifier (classifier.weight); give a fine-tuned network');
  return { spec, fromLayer: fromLayer(spec), weights: tensorsOf(checkpoint), source: given };
}

async function distill(rt: Runtime, spec: ResolvedSpec, dir: string, data: V2Data, say: (t: string) => void): Promise<DistillSummary> {
  const d = spec.distill!;
  const teacher = openTeacher(spec, dir);
  // No student block: the student is the teacher's encoder at its own width.
  const width = d.student?.width ?? 1;
  const student: ModelSpec = { ...spec, encoder: { ...teacher.spec.encoder, layers: scaleWidth(teacher.spec.encoder.layers, width) } };
  if (student.encoder.in_channels !== data.train.channels) {
    throw new CodedError('E0310', teacher.source, `the teacher's encoder takes ${student.encoder.in_channels} channels but the data has ${data.train.channels}`);
  }
  const teacherLogits = (batch: number, augment = false) => classifierLogitsPhase(teacher.spec, batch, data.classes, teacher.fromLayer, augment);
  const batch = Math.min(d.batch_size, data.train.count);
  const teacherEx = await StepExecutor.create(rt, compilePhase(teacherLogits(batch, true), rt.target).kernels, { initial: teacher.weights });
  const options = { type: d.optimizer, lr: d.lr, momentum: d.momentum, temperature: d.temperature, alpha: d.alpha, replay: true };
  // With α = 1 the labels are unused: every training image (or distill.limit of them) teaches, as in the paper.
  const images = d.alpha === 1 ? limited(data.train, d.limit, spec.train.seed) : data.labelled;
  say(`distilling ${teacher.source} into a student of width ×${width} (T ${d.temperature}, α ${d.alpha}) on ${images.count} training images, ${d.epochs} epoch${d.epochs === 1 ? '' : 's'}`);
  try {
    const result = await supervised(
      rt,
      join(dir, PHASE_DIRS.distill),
      {
        phase: (b) => distillPhase(student, b, data.classes, options),
        logits: (b) => classifierLogitsPhase(student, b, data.classes, 0),
        options,
        schedule: { epochs: d.epochs, lr: d.lr, batch, seed: spec.train.seed },
        data: images,
        val: data.val,
        test: data.test,
        initial: {},
        config: JSON.stringify({ distill: d, teacher: teacher.source, val_fraction: spec.data.val_fraction, label_fraction: spec.finetune?.label_fraction, seed: spec.train.seed }),
        // The teacher draws the step's views (seeded by the step) and the student replays the draws.
        teacher: async (images, step) => {
          teacherEx.write('images', images);
          teacherEx.setStep(stepScalars({ type: 'sgd', betas: [0, 0] }, step + 1, 0, spec.train.seed));
          teacherEx.record();
          return { logits: await teacherEx.read('logits'), records: await teacherEx.read('records') };
        },
      },
      say,
    );
    const teacherPredictions = await predict(rt, (b) => teacherLogits(b), teacher.weights, data.test);
    const studentPredictions = await predict(rt, (b) => classifierLogitsPhase(student, b, data.classes, 0), result.weights, data.test);
    let same = 0;
    for (let i = 0; i < data.test.count; i++) if (teacherPredictions[i] === studentPredictions[i]) same++;
    const teacherParams = countParams(teacherLogits(1));
    const summary = { top1: result.test_top1, teacher_top1: accuracy(teacherPredictions, data.test), agreement: same / data.test.count, student_params: result.params, teacher_params: teacherParams };
    say(`student ${pct(summary.top1)} (${summary.student_params} params) · teacher ${pct(summary.teacher_top1)} (${summary.teacher_params} params) · agreement ${pct(summary.agreement)}`);
    return summary;
  } finally {
    teacherEx.destroy();
  }
}
