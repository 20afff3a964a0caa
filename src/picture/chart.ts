// Line charts for training curves: one or more panels stacked vertically, each with its own y axis.
import { Canvas, type Rgb } from './canvas.js';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
}

export const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
];

const PANEL_H = 300;
const WIDTH = 720;
const MARGIN = { left: 80, right: 20, top: 36, bottom: 44 };

/** Renders the panels to a PNG; empty series are skipped, an empty panel shows its title only. */
export function renderChart(panels: Panel[]): Uint8Array {
  const canvas = new Canvas(WIDTH, PANEL_H * panels.length);
  panels.forEach((panel, i) => drawPanel(canvas, panel, i * PANEL_H));
  return canvas.png();
}

function drawPanel(canvas: Canvas, panel: Panel, top: number): void {
  const ink: Rgb = [40, 40, 40];
  const grid: Rgb = [225, 225, 225];
  canvas.text(panel.title, WIDTH / 2, top + 10, ink, 3, 'center');
  const series = panel.series.filter((s) => s.points.some(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  if (!series.length) return;
  const finite = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const [xMin, xMax] = extent(finite.map((p) => p[0]));
  const [yMin, yMax] = extent(finite.map((p) => p[1]));
  const plot = { x: MARGIN.left, y: top + MARGIN.top, w: WIDTH - MARGIN.left - MARGIN.right, h: PANEL_H - MARGIN.top - MARGIN.bottom };
  const px = (x: number) => plot.x + ((x - xMin) / (xMax - xMin)) * plot.w;
  const py = (y: number) => plot.y + plot.h - ((y - yMin) / (yMax - yMin)) * plot.h;
  for (let t = 0; t <= 4; t++) {
    const y = yMin + ((yMax - yMin) * t) / 4;
    canvas.line(plot.x, py(y), plot.x + plot.w, py(y), grid);
    canvas.text(tick(y), plot.x - 6, py(y) - 5, ink, 2, 'right');
    const x = xMin + ((xMax - xMin) * t) / 4;
    canvas.text(tick(x), px(x), plot.y + plot.h + 8, ink, 2, 'center');
  }
  canvas.line(plot.x, plot.y, plot.x, plot.y + plot.h, ink);
  canvas.line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, ink);
  canvas.text(panel.xLabel, plot.x + plot.w / 2, plot.y + plot.h + 26, ink, 2, 'center');
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 1) canvas.rect(px(pts[0][0]) - 2, py(pts[0][1]) - 2, 5, 5, color);
    for (let j = 1; j < pts.length; j++) canvas.line(px(pts[j - 1][0]), py(pts[j - 1][1]), px(pts[j][0]), py(pts[j][1]), color, 2);
    canvas.rect(plot.x + plot.w - 150, plot.y + 6 + k * 16, 14, 10, color);
    canvas.text(s.name, plot.x + plot.w - 130, plot.y + 6 + k * 16, ink, 2);
  });
}

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

function tick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}
