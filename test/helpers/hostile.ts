// Specs that cost a naive front end minutes, gigabytes or its stack; the spec and language-server
// fuzz tests feed them in and expect a quick, positioned refusal.

/**
 * A "billion laughs": each anchor's list holds ten aliases of the one before, eight levels up, so the
 * last alias stands for 10^9 values. Expanded in document order, the 10,000-value budget runs out at
 * the eighth `*a2` of line 4 (a1 and a2 bring in 1,220; each `*a2` 1,111 more): 4:45.
 */
export const ALIAS_BOMB = [
  'a0: &a0 [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  'name: *a8',
  '',
].join('\n');

/**
 * `levels` residual blocks, each inside the body of the one before, on one line. The top level
 * holds `encoder {` (depth 1) and `layers: [` (2); residual k's `{` is depth 2k + 1, so the 32nd's,
 * at column 619, is the first past 64.
 */
export function nestedSimclr(levels: number): string {
  return `encoder { layers: [ ${'residual { body: [ '.repeat(levels)}relu${' ] }'.repeat(levels)} ] }\n`;
}

/**
 * The same in flow YAML, on one line: `encoder: { layers: [ ` then 26 characters per residual, so the
 * 32nd's `{` is at column 828.
 */
export function nestedYamlFlow(levels: number): string {
  return `encoder: { layers: [ ${'{ type: residual, body: [ '.repeat(levels)}{ type: relu }${' ] }'.repeat(levels)} ] }\n`;
}

/**
 * The same in block YAML, two lines per residual (the indentation grows, so keep `levels` modest):
 * residual k's mapping starts at line 2k + 1, column 4k + 3, so the 32nd's is at 65:131.
 */
export function nestedYaml(levels: number): string {
  const lines = ['encoder:', '  layers:'];
  for (let k = 1; k <= levels; k++) lines.push(`${' '.repeat(4 * k)}- type: residual`, `${' '.repeat(4 * k + 2)}body:`);
  lines.push(`${' '.repeat(4 * levels + 4)}- type: relu`, '');
  return lines.join('\n');
}
