// Pixel plumbing shared by the sources: channel conversion and antialiased resizing, on 8-bit images.

/** A decoded image: interleaved samples (H, W, C), 8 bits each. */
export interface Interleaved {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Interleaved gray/gray+alpha/RGB/RGBA → planar (C, H, W) with `want` channels (1 or 3). Alpha is
 * dropped and gray is replicated, as PIL's convert('RGB') does; RGB → gray uses PIL's 'L' weights
 * (ITU-R 601), so images match what torchvision's ImageFolder would give.
 */
export function toPlanar(img: Interleaved, want: number): Uint8Array {
  const { data, width, height, channels } = img;
  const plane = width * height;
  const out = new Uint8Array(want * plane);
  const colour = channels >= 3;
  for (let p = 0; p < plane; p++) {
    const s = p * channels;
    if (want === 1) {
      out[p] = colour ? Math.round(0.299 * data[s] + 0.587 * data[s + 1] + 0.114 * data[s + 2]) : data[s];
    } else {
      for (let c = 0; c < 3; c++) out[c * plane + p] = data[s + (colour ? c : 0)];
    }
  }
  return out;
}

/**
 * One output sample's contributors along one axis: a triangle (bilinear) filter widened by the
 * downscale factor, so shrinking averages every source pixel instead of skipping most of them.
 */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  width: number;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * width);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let i = lo; i < hi && n < width; i++, n++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      weights[o * width + n] = w;
      sum += w;
    }
    for (let j = 0; j < n; j++) weights[o * width + j] /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, width };
}

/** Planar (C, H, W) → (C, outH, outW), separable antialiased bilinear. */
export function resize(src: Uint8Array, channels: number, height: number, width: number, outH: number, outW: number): Uint8Array {
  if (height === outH && width === outW) return src;
  const tx = taps(width, outW);
  const ty = taps(height, outH);
  const rows = new Float32Array(height * outW);
  const out = new Uint8Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        const s = tx.start[x];
        for (let j = 0; j < tx.count[x]; j++) acc += tx.weights[x * tx.width + j] * src[base + y * width + s + j];
        rows[y * outW + x] = acc;
      }
    }
    for (let y = 0; y < outH; y++) {
      const s = ty.start[y];
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let j = 0; j < ty.count[y]; j++) acc += ty.weights[y * ty.width + j] * rows[(s + j) * outW + x];
        out[c * outH * outW + y * outW + x] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

/** The centred square of a planar image (the shorter side kept whole), then resized to size × size. */
export function centreSquare(src: Uint8Array, channels: number, height: number, width: number, size: number): Uint8Array {
  const side = Math.min(height, width);
  let square = src;
  if (height !== width) {
    const top = (height - side) >> 1;
    const left = (width - side) >> 1;
    square = new Uint8Array(channels * side * side);
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < side; y++) {
        const from = c * height * width + (top + y) * width + left;
        square.set(src.subarray(from, from + side), c * side * side + y * side);
      }
    }
  }
  return resize(square, channels, side, side, size, size);
}
