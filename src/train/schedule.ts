// Learning rate per step: linear warmup from 0, then cosine decay to 0, flat-then-cosine, or
// constant; the peak scaled from the batch size as google-research/simclr does.
import { scaledLr } from '../ir/lr-scaling.js';
import type { OptimizerSpec, ScheduleSpec } from '../spec/types.js';

export type Decay = ScheduleSpec['decay'];

/**
 * flat_cos holds the peak until this fraction of training, then anneals with a half cosine to 0 over
 * the rest — fastai's fit_flat_cos (pct_start 0.75), which the self_supervised library trains with.
 * Warmup, when longer, comes first: the flat part then starts where warmup ends.
 */
export const FLAT_FRACTION = 0.75;

export interface Schedule {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: Decay;
}

/** The fields of the resolved spec that fix the schedule, plus the run's step counts. */
export interface ScheduleInput {
  optimizer: Pick<OptimizerSpec, 'lr' | 'lr_scaling'>;
  schedule: ScheduleSpec;
  batchSize: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

export function makeSchedule({ optimizer, schedule, batchSize, stepsPerEpoch, totalSteps }: ScheduleInput): Schedule {
  return {
    peakLr: scaledLr(optimizer.lr, optimizer.lr_scaling, batchSize),
    warmupSteps: Math.min(totalSteps, Math.round(schedule.warmup_epochs * stepsPerEpoch)),
    totalSteps,
    decay: schedule.decay,
  };
}

/** Half a cosine from `peak` at `from` to 0 at `to`. */
function anneal(peak: number, step: number, from: number, to: number): number {
  if (to <= from) return peak;
  const t = Math.min(1, (step - from) / (to - from));
  return peak * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** The rate for the update at global step `step` (0-based); warmup gives peak·step/warmup as simclr does. */
export function lrAt({ peakLr, warmupSteps, totalSteps, decay }: Schedule, step: number): number {
  if (step < warmupSteps) return (peakLr * step) / warmupSteps;
  if (decay === 'constant') return peakLr;
  if (decay === 'cosine') return anneal(peakLr, step, warmupSteps, totalSteps);
  const flatEnd = Math.max(warmupSteps, Math.round(FLAT_FRACTION * totalSteps));
  return step < flatEnd ? peakLr : anneal(peakLr, step, flatEnd, totalSteps);
}
