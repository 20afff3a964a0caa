// Softmax cross-entropy of the network's logits against per-row class labels (the linear probe,
// fine-tuning): labels are a graph input fed per step, class ids as f32, −1 for rows that do not count.
import { defineLoss } from './loss.js';

defineLoss({
  name: 'cross_entropy',
  inputs: (logits) => [{ name: 'labels', shape: [logits[0]] }],
  build: (g, logits, [labels], _attrs) => g.add('cross_entropy', [logits, labels], {}, 'loss')[0],
});
