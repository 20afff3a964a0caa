// The folders of src/ are layers: each stage depends only on the ones before it, so no two folders
// may import each other, however indirectly. Every import of every src/**/*.ts file (static,
// re-export, dynamic and type-only alike) is an edge between the folders it joins.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/spec/references.js';

const src = join(packageRoot, 'src');
const folderOf = (file: string) => relative(src, file).split(/[\\/]/)[0];

/** folder → folder → one import that makes the edge ("ir/optimizer.ts → train/schedule.js"). */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const files = readdirSync(src, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  for (const file of files.map((f) => join(src, f))) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifier)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(src, file)} → ${relative(src, target)}`);
    }
  }
  return graph;
}

/** Every elementary cycle between folders, each listed once from its smallest folder name. */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const walk = (start: string, path: string[]) => {
    for (const next of graph.get(path[path.length - 1])?.keys() ?? []) {
      if (next === start) found.push([...path, start]);
      else if (next > start && !path.includes(next)) walk(start, [...path, next]);
    }
  };
  for (const start of [...graph.keys()].sort()) walk(start, [start]);
  return found;
}

test('no import cycle between the folders of src/', () => {
  const graph = folderGraph();
  const report = cycles(graph).map((cycle) => cycle.slice(1).map((to, k) => `  ${graph.get(cycle[k])!.get(to)}`).join('\n'));
  assert.ok(report.length === 0, `import cycles between folders:\n${report.join('\n\n')}`);
});

test.run();
