/** Two aligned columns, for the short reports commands print at their end. */
export function formatTable(rows: string[][]): string {
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
