// The one shape every data source returns: whole images in memory, channel-first, 8 bits a sample.
export interface Dataset {
  /** count·channels·height·width bytes, image after image, each channel-first (C, H, W). */
  images: Uint8Array;
  /** One class index per image, where the source has labels. */
  labels?: Int32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** What a person would call it in a message: "fashion-mnist (test)", a folder path. */
  name: string;
  /** Class names by index, where the source has them (image folders). */
  classes?: string[];
  /**
   * Where the splits were carved from one pool (an image folder without train/ and test/): the
   * images of each side, so a run can say how many it holds out.
   */
  heldOut?: { train: number; test: number };
}

/** Bad input: always names the file or folder at fault, so the user knows what to fix. */
/** `path` is the file or folder at fault, or the spec field; `specPath` the field when one caused it. */
export class DataError extends Error {
  readonly code = 'E0403';
  constructor(
    readonly path: string,
    detail: string,
    readonly specPath?: (string | number)[],
  ) {
    super(`${path}: ${detail}`);
    this.name = 'DataError';
  }
}

export function imageBytes(ds: Pick<Dataset, 'channels' | 'height' | 'width'>): number {
  return ds.channels * ds.height * ds.width;
}

/** The first `count` images (and labels) of a dataset, sharing no memory with it. */
export function takeFirst(ds: Dataset, count: number): Dataset {
  if (count >= ds.count) return ds;
  const size = imageBytes(ds);
  return {
    ...ds,
    images: ds.images.slice(0, count * size),
    labels: ds.labels?.slice(0, count),
    count,
  };
}

/** Number of classes: the named classes, else one past the largest label. */
export function classCount(ds: Dataset): number {
  if (ds.classes) return ds.classes.length;
  let max = -1;
  for (const label of ds.labels ?? []) max = Math.max(max, label);
  return max + 1;
}

/** Per-channel mean and standard deviation of the pixels scaled to [0, 1]: what `normalize` uses. */
export function channelStats(ds: Dataset): { mean: number[]; std: number[] } {
  const plane = ds.height * ds.width;
  const sum = new Float64Array(ds.channels);
  const sq = new Float64Array(ds.channels);
  for (let n = 0; n < ds.count; n++) {
    for (let c = 0; c < ds.channels; c++) {
      const base = (n * ds.channels + c) * plane;
      let s = 0;
      let q = 0;
      for (let p = 0; p < plane; p++) {
        const v = ds.images[base + p];
        s += v;
        q += v * v;
      }
      sum[c] += s;
      sq[c] += q;
    }
  }
  const count = ds.count * plane;
  const mean = Array.from(sum, (s) => s / count / 255);
  const std = Array.from(sq, (q, c) => Math.sqrt(Math.max(q / count / 255 ** 2 - mean[c] ** 2, 0)));
  return { mean, std };
}
