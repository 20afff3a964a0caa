// The distillation soft term: WGSL against the float64 reference on shapes that are not multiples
// of the workgroup, its gradient against finite differences, and the golden distillation loss
// gradient ∂loss/∂s of test/golden/distill.json at α = 1 (the soft term alone).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp } from '../../src/kernels/index.js';
import { referenceKd } from '../../src/kernels/kd.js';
import { checkGrad, checkOp } from '../helpers/check-op.js';
import { golden } from '../helpers/golden.js';
import { assertClose, randoms } from '../helpers/numeric.js';

test('kd and kd_backward match their float64 references (rows past one workgroup, odd class counts)', async () => {
  for (const [B, C, T] of [[3, 5, 1], [70, 10, 2], [131, 7, 0.5]]) {
    const attrs = { temperature: T, scale: 0.75 };
    await checkOp('kd', [[B, C], [B, C]], attrs, { inputs: [randoms(B * C, B, -4, 4), randoms(B * C, C, -4, 4)] });
    await checkOp('kd_backward', [[B, C], [B, C], [1]], attrs, { inputs: [randoms(B * C, B, -4, 4), randoms(B * C, C, -4, 4), Float64Array.of(1.3)] });
  }
});

test("kd's gradient rule agrees with finite differences, and the teacher receives none", () => {
  checkGrad('kd', [[5, 4], [5, 4]], { temperature: 2, scale: 0.5 }, { tol: 1e-6 });
  const rule = getOp('kd').grad!;
  const none = rule({ inputs: [{ id: 0, shape: [2, 3] }, { id: 1, shape: [2, 3] }], outputs: [{ id: 2, shape: [1] }], grads: [{ id: 3, shape: [1] }], attrs: { temperature: 1, scale: 1 }, emit: () => [{ id: 4, shape: [2, 3] }] });
  assert.is(none[1], undefined);
});

interface DistillCase {
  temperature: number;
  alpha: number;
  loss: number;
  student_logits: number[];
  grad_logits: number[];
}

test('golden distill.json: at α = 1 the soft term alone is the loss and its gradient', () => {
  const g = golden<{ n: number; classes: number; teacher_logits: number[]; cases: DistillCase[] }>('distill.json');
  const soft = g.cases.filter((c) => c.alpha === 1);
  assert.ok(soft.length >= 2, 'the golden file has α = 1 cases at two temperatures');
  for (const c of soft) {
    const r = referenceKd(Float64Array.from(c.student_logits), Float64Array.from(g.teacher_logits), g.n, g.classes, { temperature: c.temperature, scale: 1 });
    assertClose([r.loss], [c.loss], 1e-12, `loss at T=${c.temperature}`);
    assertClose(r.grad, c.grad_logits, 1e-12, `∂loss/∂s at T=${c.temperature}`);
  }
});

test.run();
