// A process of a data-parallel job other than rank 0: it runs the same steps as rank 0 on its slice
// of every global batch and writes nothing (rank 0 writes the run folder: checkpoints, metrics,
// pictures, the evaluation). It reads the same checkpoint on --resume, so the job restarts as one.
import { join } from 'node:path';
import { compile } from '../compiler/compile.js';
import type { Collectives } from '../dist/collectives.js';
import { runtime } from '../gpu/runtime.js';
import { stepScalars } from '../ir/optimizer.js';
import type { ResolvedSpec } from '../spec/index.js';
import { readLatestCheckpoint } from './checkpoint.js';
import { dataParallelEngine } from './data-parallel.js';
import { FILES, readRunSpec } from './run-folder.js';
import { lrAt } from './schedule.js';
import { checkpointStep, tensorsOf, trainingPlan, type RunOptions } from './trainer.js';

/** Trains along with rank 0; 'interrupted' when the job stopped early on an interrupt (`signal` here or on another process). */
export async function follow(given: ResolvedSpec | undefined, options: Pick<RunOptions, 'resume' | 'stopAfter' | 'signal'>, collectives: Collectives): Promise<'done' | 'interrupted'> {
  const rt = await runtime();
  const spec = options.resume ? readRunSpec(options.resume) : given;
  if (!spec) throw new Error('train needs a spec or a run folder to resume');
  // Rank 0 says what it warns about; the others read the same files quietly.
  const latest = options.resume ? readLatestCheckpoint(join(options.resume, FILES.checkpoint), join(options.resume, FILES.previous), () => {}) : undefined;
  const startStep = latest ? checkpointStep(latest.path, latest.checkpoint) : 0;
  const { loader, totalSteps, schedule, stepSpec } = trainingPlan(spec, startStep);
  const compiled = compile(stepSpec, { target: rt.target });
  const engine = await dataParallelEngine(rt, spec, stepSpec, compiled, collectives, latest && tensorsOf(latest.checkpoint.tensors));
  const endStep = Math.min(totalSteps, options.stopAfter ?? totalSteps);
  const onAbort = () => engine.requestStop();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();
  try {
    for (let step = startStep; step < endStep && !engine.stopping; step++) {
      const batch = await loader.next();
      await engine.step(batch.images as Uint8Array, stepScalars(stepSpec.optimizer, step + 1, lrAt(schedule, step), spec.train.seed));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    engine.destroy();
  }
  return engine.stopping ? 'interrupted' : 'done';
}
