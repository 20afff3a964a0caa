// A 3×5 bitmap font, enough for axis ticks, titles and legends without a font dependency.
const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111',
  '4': '101101111001001', '5': '111100111001111', '6': '111100111101111', '7': '111001001001001',
  '8': '111101111101111', '9': '111101111001111', '.': '000000000000010', '-': '000000111000000',
  ':': '000010000010000', '/': '001001010100100', '%': '101001010100101', ' ': '000000000000000',
  '_': '000000000000111', '(': '010100100100010', ')': '010001001001010', '=': '000111000111000',
  '+': '000010111010000', ',': '000000000010100',
  a: '010101111101101', b: '110101110101110', c: '011100100100011', d: '110101101101110',
  e: '111100110100111', f: '111100110100100', g: '011100101101011', h: '101101111101101',
  i: '111010010010111', j: '001001001101010', k: '101101110101101', l: '100100100100111',
  m: '101111111101101', n: '110101101101101', o: '010101101101010', p: '110101110100100',
  q: '010101101110011', r: '110101110101101', s: '011100010001110', t: '111010010010010',
  u: '101101101101111', v: '101101101101010', w: '101101111111101', x: '101101010101101',
  y: '101101010010010', z: '111001010100111',
};

export const GLYPH_W = 3;
export const GLYPH_H = 5;

/** Calls `dot(x, y)` for every lit pixel of `text` (lower-cased), `scale` pixels per font pixel. */
export function drawText(text: string, x0: number, y0: number, scale: number, dot: (x: number, y: number) => void): void {
  let x = x0;
  for (const ch of text.toLowerCase()) {
    const glyph = GLYPHS[ch] ?? GLYPHS[' '];
    for (let gy = 0; gy < GLYPH_H; gy++)
      for (let gx = 0; gx < GLYPH_W; gx++)
        if (glyph[gy * GLYPH_W + gx] === '1')
          for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) dot(x + gx * scale + sx, y0 + gy * scale + sy);
    x += (GLYPH_W + 1) * scale;
  }
}

export function textWidth(text: string, scale: number): number {
  return text.length * (GLYPH_W + 1) * scale - scale;
}
