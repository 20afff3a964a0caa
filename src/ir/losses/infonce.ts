// InfoNCE (NT-Xent) over the 2N rows of the projection: the fused kernel normalises, forms the
// similarities and takes the softmax in one pass, never storing the 2N×2N matrix.
import { defineLoss } from './loss.js';

defineLoss<{ temperature: number }>({
  name: 'infonce',
  build: (g, z, _inputs, attrs) => g.add('infonce', [z], { temperature: attrs.temperature }, 'loss')[0],
});
