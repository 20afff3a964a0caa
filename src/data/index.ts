// The data stage's surface: open a source from the spec, then batch it.
export { DataError, channelStats, classCount, imageBytes, takeFirst, type Dataset } from './dataset.js';
export { openDataset, type DataSection, type SourceName, type Split } from './source.js';
export { BatchLoader, type Batch, type LoaderOptions } from './loader.js';
export { FASHION_MNIST_DIR, openIdx, readIdx } from './idx.js';
export { carveSplit, HELD_OUT_FRACTION, openImageFolder } from './image-folder.js';
export { openMnist } from './mnist.js';
export { openSynthetic } from './synthetic.js';
export { Rng, mixSeed, permutation } from './rng.js';
