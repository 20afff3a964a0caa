// SimCLR v2 phases against PyTorch float64 (test/golden/finetune-step.json, distill.json): one
// fine-tuning step from head layer 0 and 1 — logits, loss, every gradient, the parameters after one
// momentum-SGD step — and the distillation loss, ∂loss/∂logits and every student gradient at
// (T, α) = (1, 1), (2, 1), (2, 0.5). float64 graphs agree to 1e-9 relative error; the compiled
// float32 GPU step to 1e-4 (values) and 1e-3 of each update's own scale, as the e2e golden test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePhase } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { appendBackward } from '../../src/ir/autodiff.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { buildForward, buildPhase } from '../../src/ir/phase.js';
import { distillPhase, finetunePhase } from '../../src/ir/phases.js';
import { assertClose } from '../helpers/numeric.js';
import { distillGolden, distillName, finetuneGolden, finetuneName, paramFeeds, v2Spec, type FinetuneCase } from './v2-case.js';

const F64 = 1e-9;
const GPU = 1e-4;
const UPDATE_TOL = 1e-3;

const ft = finetuneGolden();
const ds = distillGolden();
const ftSpec = v2Spec(ft);
const dsSpec = v2Spec(ds);

const sgdOf = (c: FinetuneCase) => ({ type: 'sgd' as const, lr: c.sgd.lr, momentum: c.sgd.momentum });
const finetuneOf = (c: FinetuneCase, keepGrads: boolean) => finetunePhase(ftSpec, ft.n, ft.classes, { ...sgdOf(c), fromLayer: c.from_layer, zeroInit: false }, keepGrads);
const finetuneFeeds = (c: FinetuneCase) => ({ images: ft.x, labels: ft.labels, ...paramFeeds(c.params, finetuneName) });

/** w_after − w_before against PyTorch's, relative to the update's own scale. */
async function assertUpdates(c: FinetuneCase, read: (name: string) => ArrayLike<number> | Promise<ArrayLike<number>>, tol: number, what: string): Promise<void> {
  for (const [torch, want] of Object.entries(c.sgd.params_after)) {
    const before = c.params[torch];
    const got = await read(finetuneName(torch));
    assertClose(Array.from(got, (x, i) => x - before[i]), want.map((x, i) => x - before[i]), tol, `${what} ${torch} update`);
  }
}

test('the golden fine-tuning step is plain momentum SGD without weight decay', () => {
  for (const c of ft.cases) assert.is(c.sgd.weight_decay, 0);
  assert.equal(ft.cases.map((c) => c.from_layer), [0, 1]);
});

for (const c of ft.cases) {
  test(`float64: fine-tuning from head layer ${c.from_layer} — logits, loss, every gradient, the SGD step`, async () => {
    const phase = finetuneOf(c, true);
    const { graph } = buildPhase(phase);
    const out = namedOutputs(graph, evaluate(graph, finetuneFeeds(c), stepScalars(phase.optimizer!, 1, c.sgd.lr)));
    assertClose(out.logits, c.logits, F64, 'logits');
    assertClose(out.loss, [c.loss], F64, 'loss');
    assert.is(Object.keys(c.grads).length, Object.keys(out).filter((k) => k.startsWith('grad:')).length, 'every trained parameter has a golden gradient');
    for (const [torch, want] of Object.entries(c.grads)) assertClose(out[`grad:${finetuneName(torch)}`], want, F64, `∂${torch}`);
    await assertUpdates(c, (name) => out[name], F64, 'float64');
  });

  test(`GPU: fine-tuning from head layer ${c.from_layer} — logits, loss, every gradient, the SGD step`, async () => {
    const rt = await runtime();
    const phase = finetuneOf(c, true);
    const { kernels } = compilePhase(phase, rt.target);
    const { images, labels, ...initial } = finetuneFeeds(c);
    const ex = await StepExecutor.create(rt, kernels, { initial });
    ex.write('images', Float32Array.from(images));
    ex.write('labels', Float32Array.from(labels));
    ex.setStep(stepScalars(phase.optimizer!, 1, c.sgd.lr));
    const loss = await ex.step();
    assertClose([loss], [c.loss], GPU, 'loss');
    assertClose(await ex.read('logits'), c.logits, GPU, 'logits');
    for (const [torch, want] of Object.entries(c.grads)) assertClose(await ex.read(`grad:${finetuneName(torch)}`), want, GPU, `∂${torch}`);
    await assertUpdates(c, (name) => ex.read(name), UPDATE_TOL, 'GPU');
    ex.destroy();
  });
}

const distillOf = (temperature: number, alpha: number, keepGrads: boolean) =>
  distillPhase(dsSpec, ds.n, ds.classes, { type: 'sgd', lr: 0, momentum: 0.9, temperature, alpha }, keepGrads);
const distillFeeds = (alpha: number) => ({
  images: ds.x,
  teacher_logits: ds.teacher_logits,
  ...(alpha < 1 ? { labels: ds.labels } : {}),
  ...paramFeeds(ds.student_params, distillName),
});

for (const c of ds.cases) {
  test(`float64: distillation at T = ${c.temperature}, α = ${c.alpha} — loss, ∂loss/∂logits, every student gradient`, () => {
    const phase = distillOf(c.temperature, c.alpha, false);
    const { graph, output, loss, trained } = buildForward(phase);
    const grads = appendBackward(graph, loss!, [output, ...trained]);
    const values = evaluate(graph, distillFeeds(c.alpha));
    assertClose(values[output.id], c.student_logits, F64, 'student logits');
    assertClose(values[loss!.id], [c.loss], F64, 'loss');
    assertClose(values[grads.get(output.id)!.id], c.grad_logits, F64, '∂loss/∂logits');
    assert.is(Object.keys(c.grads).length, trained.length, 'every trained parameter has a golden gradient');
    for (const [torch, want] of Object.entries(c.grads)) {
      const t = trained.find((p) => p.name === distillName(torch))!;
      assertClose(values[grads.get(t.id)!.id], want, F64, `∂${torch}`);
    }
  });

  test(`GPU: distillation at T = ${c.temperature}, α = ${c.alpha} — loss and every student gradient`, async () => {
    const rt = await runtime();
    const { kernels } = compilePhase(distillOf(c.temperature, c.alpha, true), rt.target);
    const { images, teacher_logits, labels, ...initial } = distillFeeds(c.alpha) as Record<string, number[]>;
    const ex = await StepExecutor.create(rt, kernels, { initial });
    ex.write('images', Float32Array.from(images));
    ex.write('teacher_logits', Float32Array.from(teacher_logits));
    if (labels) ex.write('labels', Float32Array.from(labels));
    ex.setStep(stepScalars({ type: 'sgd', betas: [0, 0] }, 1, 0));
    assertClose([await ex.step()], [c.loss], GPU, 'loss');
    for (const [torch, want] of Object.entries(c.grads)) assertClose(await ex.read(`grad:${distillName(torch)}`), want, GPU, `∂${torch}`);
    ex.destroy();
  });
}

test.run();
