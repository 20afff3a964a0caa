// The resolved spec's `data` section → one Dataset: the source opened, limited, and brought to
// image_size × image_size with the wanted channels.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, takeFirst, type Dataset } from './dataset.js';
import { FASHION_MNIST_DIR, openIdx } from './idx.js';
import { carveSplit, openImageFolder } from './image-folder.js';
import { openMnist } from './mnist.js';
import { resize } from './pixels.js';
import { openSynthetic } from './synthetic.js';
import type { DataSpec } from '../spec/types.js';

export type SourceName = DataSpec['source'];
export type Split = DataSpec['split'];

/** The fields of the resolved spec's `data` section that opening a source needs. */
export type DataSection = Pick<DataSpec, 'source' | 'path' | 'split' | 'limit' | 'image_size' | 'channels'>;

/** Images a synthetic split holds when no limit is given. */
const SYNTHETIC_COUNT: Record<Split, number> = { train: 2048, test: 512 };

/** Opens `data` for `split` (default data.split; evaluation asks for data.eval_split). */
export function openDataset(data: DataSection, split: Split = data.split): Dataset {
  const raw = openSource(data, split);
  const limited = data.limit !== undefined ? takeFirst(raw, data.limit) : raw;
  if (limited.channels !== data.channels) {
    throw new DataError(
      data.path ?? limited.name,
      `images have ${limited.channels} channel${limited.channels === 1 ? '' : 's'} but data.channels is ${data.channels}; set data.channels: ${limited.channels}`,
      ['data', 'channels'],
    );
  }
  return toSize(limited, data.image_size);
}

function openSource(data: DataSection, split: Split): Dataset {
  switch (data.source) {
    case 'mnist':
      return openMnist(split);
    case 'fashion-mnist':
      return openIdx(data.path ?? FASHION_MNIST_DIR, split, 'fashion-mnist');
    case 'idx':
      return openIdx(required(data), split, required(data));
    case 'image-folder': {
      const root = required(data);
      const folder = (name: string) => existsSync(join(root, name)) && statSync(join(root, name)).isDirectory();
      if (folder('train') && folder('test')) return openImageFolder(join(root, split), data.image_size, data.channels);
      return carveSplit(openImageFolder(folder('train') ? join(root, 'train') : root, data.image_size, data.channels), split);
    }
    case 'synthetic':
      return openSynthetic({ count: data.limit ?? SYNTHETIC_COUNT[split], size: data.image_size, channels: data.channels, split });
  }
}

function required(data: DataSection): string {
  if (!data.path) throw new DataError('data.path', `the ${data.source} source needs a path`, ['data', 'path']);
  return data.path;
}

function toSize(ds: Dataset, size: number): Dataset {
  if (ds.height === size && ds.width === size) return ds;
  const inBytes = ds.channels * ds.height * ds.width;
  const outBytes = ds.channels * size * size;
  const images = new Uint8Array(ds.count * outBytes);
  for (let n = 0; n < ds.count; n++) {
    const one = ds.images.subarray(n * inBytes, (n + 1) * inBytes);
    images.set(resize(one, ds.channels, ds.height, ds.width, size, size), n * outBytes);
  }
  return { ...ds, images, height: size, width: size };
}
