// How long after a change an editor shows diagnostics: a 500-line spec is opened in the real server
// (`simclr-compile lsp --stdio`, a child process), one value is edited, and the time until the
// publishDiagnostics for that version arrives is measured. Edits are spaced out, as single edits
// after a pause are what a person waits on; `check_ms` is the front end's share (in process).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { startSimclrServer } from '../lsp/client.js';
import { CHECK_INTERVAL_MS } from '../lsp/throttle.js';
import { loadSpecText } from '../spec/index.js';
import { round, type BenchSuite } from './measure.js';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A valid spec of exactly `lines` lines: a long encoder layer list, one layer per line. */
export function longSpec(lines: number): string {
  const head = ['# lsp bench: a long spec', 'name: "lsp-bench"', 'data { source: mnist  limit: 512 }', 'encoder {', '  pool: avg', '  layers: ['];
  const tail = [
    '  ]',
    '}',
    'projector { hidden: 64  out: 32 }',
    'augment { ops: [random_resized_crop, flip, normalize] }',
    'loss { temperature: 0.1 }',
    'optimizer: lars { lr: 0.3 }',
    'train { batch_size: 32  steps: 10 }',
    '',
  ];
  const body: string[] = [];
  const block = ['    conv { out: 8  kernel: 3 }', '    batchnorm', '    relu'];
  while (head.length + body.length + tail.length < lines) body.push(block[body.length % block.length]);
  return [...head, ...body, ...tail].join('\n');
}

export const lspSuite: BenchSuite = {
  name: 'lsp',
  description: 'diagnostics latency after a change, through the language server',
  async run({ repeats, quick }, emit) {
    const lines = 500;
    const text = longSpec(lines);
    const fileName = join(packageRoot, 'examples', 'lsp-bench.simclr');
    const uri = pathToFileURL(fileName).href;
    const temperatureLine = text.split('\n').findIndex((l) => l.startsWith('loss {'));
    const server = startSimclrServer(packageRoot);
    try {
      await server.initialize(pathToFileURL(packageRoot).href);
      let version = 1;
      const opened = server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.version === 1);
      server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'simclr', version, text } });
      const first = await opened;
      if (first.diagnostics.length) throw new Error(`bench spec has errors: ${JSON.stringify(first.diagnostics[0])}`);
      const edit = async () => {
        // Spaced past the throttle interval: each edit is a lone edit, as a person makes it.
        await new Promise((r) => setTimeout(r, CHECK_INTERVAL_MS + 20));
        version++;
        const published = server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.version === version);
        const start = performance.now();
        server.notify('textDocument/didChange', {
          textDocument: { uri, version },
          contentChanges: [{ range: { start: { line: temperatureLine, character: 20 }, end: { line: temperatureLine, character: 21 } }, text: String(1 + (version % 9)) }],
        });
        await published;
        return performance.now() - start;
      };
      for (let i = 0; i < 3; i++) await edit(); // warm-up: the server's modules and caches
      const times: number[] = [];
      for (let i = 0; i < (quick ? 5 : Math.max(repeats, 15)); i++) times.push(await edit());
      times.sort((a, b) => a - b);
      // The front end's share, timed in this process with the same spacing as the edits.
      const checks: number[] = [];
      for (let i = 0; i < times.length; i++) {
        await new Promise((r) => setTimeout(r, CHECK_INTERVAL_MS + 20));
        const start = performance.now();
        loadSpecText(text, fileName);
        checks.push(performance.now() - start);
      }
      emit({ bench: 'lsp', lines, median_ms: round(median(times)), min_ms: round(times[0]), max_ms: round(times[times.length - 1]), runs: times.length, check_ms: round(median(checks)) });
      await server.close();
    } finally {
      server.kill();
    }
  },
};

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
