// Shared by the lsp tests: where the package is, and waiting for one version's diagnostics.
import { fileURLToPath } from 'node:url';
import type { LspClient } from '../../src/lsp/client.js';

/** The repository root (the tests run from build/test/lsp/). */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface PublishedDiagnostics {
  uri: string;
  version?: number;
  diagnostics: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; message: string; code?: string | number; severity?: number; source?: string }[];
}

/** The diagnostics published for `uri` at `version`, whether they already came or are still coming. */
export function diagnosticsFor(server: LspClient, uri: string, version: number, timeoutMs = 10_000): Promise<PublishedDiagnostics> {
  const match = (p: PublishedDiagnostics) => p.uri === uri && p.version === version;
  const seen = server.notifications.find((n) => n.method === 'textDocument/publishDiagnostics' && match(n.params as PublishedDiagnostics));
  if (seen) return Promise.resolve(seen.params as PublishedDiagnostics);
  return server.waitFor('textDocument/publishDiagnostics', match, timeoutMs);
}

/** Handler failures the server caught and logged (window/logMessage of type Error). */
export function loggedFailures(server: LspClient): string[] {
  return server.notifications
    .filter((n) => n.method === 'window/logMessage' && (n.params as { type: number }).type === 1)
    .map((n) => (n.params as { message: string }).message);
}

/** `work`, or a failure naming `what` after `ms`: a stalled server fails a test instead of hanging it. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
