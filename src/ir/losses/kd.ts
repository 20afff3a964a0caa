// Knowledge distillation (SimCLR v2): (1 − α)·CE(y, s) + α·T²·CE(softmax(t/T), log_softmax(s/T))
// over the student's logits s, the frozen teacher's logits `teacher_logits` (an input fed per step,
// so the teacher gets no gradient) and, when α < 1, the class ids `labels`. At α = 1 (the paper's main
// setting) the labels are not read, so the phase has no labels input to feed.
import { defineLoss } from './loss.js';

interface KdLossAttrs {
  [key: string]: unknown;
  temperature: number;
  alpha: number;
}

defineLoss<KdLossAttrs>({
  name: 'kd',
  inputs: (logits, { alpha }) => [{ name: 'teacher_logits', shape: logits }, ...(alpha < 1 ? [{ name: 'labels', shape: [logits[0]] }] : [])],
  build: (g, logits, [teacher, labels], { temperature, alpha }) => {
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`kd alpha must be in [0, 1], got ${alpha}`);
    const [soft] = g.add('kd', [logits, teacher], { temperature, scale: alpha }, 'loss');
    if (!labels) return soft;
    const [hard] = g.add('cross_entropy', [logits, labels], { scale: 1 - alpha }, 'loss');
    return g.add('add', [soft, hard], {}, 'loss')[0];
  },
});
