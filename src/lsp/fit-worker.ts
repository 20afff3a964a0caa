// The fit check's thread: compiling a large step takes seconds, which the server's own thread
// spends answering completions and hovers instead. One message in (a spec's text, the open
// documents it may read), its E0601/E0602 diagnostics out.
import { parentPort } from 'node:worker_threads';
import { fitDiagnostics } from '../compiler/fit-check.js';
import { shapeDiagnostics } from '../ir/shape-check.js';
import type { Target } from '../kernels/op.js';
import { hasErrors, loadSpecText, type Diagnostic } from '../spec/index.js';

export interface FitRequest {
  id: number;
  text: string;
  fileName: string;
  /** Open documents by file path, read as typed. */
  open: Record<string, string>;
  /** The recorded adapter the step is judged against. */
  known: { target: Target; description: string };
}

export interface FitReply {
  id: number;
  diagnostics: Diagnostic[];
}

function check({ text, fileName, open, known }: FitRequest): Diagnostic[] {
  const loaded = loadSpecText(text, fileName, { readText: (path) => open[path] });
  if (!loaded.spec || hasErrors(loaded.diagnostics) || hasErrors(shapeDiagnostics(loaded.spec, loaded.sources))) return [];
  return fitDiagnostics(loaded.spec, loaded.sources, known.target, known.description);
}

parentPort!.on('message', (request: FitRequest) => {
  let diagnostics: Diagnostic[] = [];
  try {
    diagnostics = check(request);
  } catch {
    // A half-typed spec that trips the compiler costs this one answer; the server's own check has
    // already shown what the front end finds.
  }
  parentPort!.postMessage({ id: request.id, diagnostics } satisfies FitReply);
});
