// An RGBA raster with the few primitives charts and image grids need, encoded to PNG by fast-png.
import { encode } from 'fast-png';
import { drawText, textWidth } from './font.js';

export type Rgb = [number, number, number];

export class Canvas {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([...background, 255], i * 4);
  }

  set(x: number, y: number, [r, g, b]: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set([r, g, b, 255], (y * this.width + x) * 4);
  }

  rect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, color);
  }

  /** A line `thickness` pixels wide (square brush), by stepping along the longer axis. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const half = Math.floor(thickness / 2);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dy = -half; dy < thickness - half; dy++) for (let dx = -half; dx < thickness - half; dx++) this.set(x + dx, y + dy, color);
    }
  }

  text(text: string, x: number, y: number, color: Rgb, scale = 2, align: 'left' | 'right' | 'center' = 'left'): void {
    const w = textWidth(text, scale);
    const left = align === 'left' ? x : align === 'right' ? x - w : x - w / 2;
    drawText(text, Math.round(left), Math.round(y), scale, (px, py) => this.set(px, py, color));
  }

  /** Draws a grayscale or RGB image given as planar floats in [0, 1] (C×H×W), each pixel `scale` wide. */
  image(pixels: ArrayLike<number>, channels: number, h: number, w: number, x0: number, y0: number, scale = 1): void {
    const plane = h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const at = y * w + x;
        const c = (k: number) => Math.round(255 * Math.min(1, Math.max(0, pixels[(channels === 1 ? 0 : k) * plane + at])));
        this.rect(x0 + x * scale, y0 + y * scale, scale, scale, [c(0), c(1), c(2)]);
      }
  }

  png(): Uint8Array {
    return encode({ width: this.width, height: this.height, data: this.data, channels: 4, depth: 8 });
  }
}
