// Inline SVG charts for the report: lines over steps and a scatter map; no script, no fonts beyond
// the page's own, so the file renders the same anywhere.

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const W = 560;
const H = 220;
const PAD = { left: 56, right: 12, top: 24, bottom: 32 };

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const num = (x: number) => (Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 0.01) ? x.toExponential(1) : String(Number(x.toPrecision(3))));

/** Lines of (step, value) with min/max ticks on both axes; a series with one point is a dot. */
export function lineChart(title: string, series: Series[], yRange?: [number, number]): string {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (!all.length) return `<p class="empty">${esc(title)}: nothing logged</p>`;
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [y0, y1] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const lines = series.map((s) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    const path = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    const dots = pts.length <= 40 ? pts.map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(s.name)} at step ${x}: ${num(y)}</title></circle>`).join('') : '';
    return `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.5"/>${dots}`;
  });
  const legend = series.map((s, i) => `<text x="${PAD.left + 8 + i * 150}" y="16" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}" fill="#fafafa" stroke="#ccc"/>
<text x="${PAD.left - 6}" y="${py(y1) + 4}" text-anchor="end">${num(y1)}</text><text x="${PAD.left - 6}" y="${py(y0) + 4}" text-anchor="end">${num(y0)}</text>
<text x="${px(x0)}" y="${H - 12}">${x0}</text><text x="${px(x1)}" y="${H - 12}" text-anchor="end">${x1}</text><text x="${(PAD.left + W) / 2}" y="${H - 4}" text-anchor="middle">step</text>
${legend}${lines.join('')}</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

/** One colour per class: ten distinct hues, then the golden-angle walk round the wheel. */
export function classColor(c: number): string {
  const ten = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  return c < ten.length ? ten[c] : `hsl(${(c * 137.508) % 360} 65% 45%)`;
}

export function scatter(xy: number[][], labels: ArrayLike<number>, names: (c: number) => string): string {
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = 520;
  const sx = (x: number) => 10 + ((x - x0) / (x1 - x0 || 1)) * (size - 20);
  const sy = (y: number) => 10 + ((y1 - y) / (y1 - y0 || 1)) * (size - 20);
  const dots = xy.map((p, i) => `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${classColor(labels[i])}" fill-opacity="0.75"/>`).join('');
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const legend = classes.map((c) => `<span><i style="background:${classColor(c)}"></i>${esc(names(c))}</span>`).join('');
  return `<svg viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="embedding map"><rect width="${size}" height="${size}" fill="#fafafa" stroke="#ccc"/>${dots}</svg><div class="legend">${legend}</div>`;
}
