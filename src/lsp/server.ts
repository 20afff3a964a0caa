// The language server: wires LSP requests to the feature modules. Every handler runs inside `guard`,
// so a half-typed spec that trips a bug costs that one answer (an empty one, logged), never the
// server; the editor always gets a reply.
import {
  createConnection,
  DiagnosticSeverity,
  ProposedFeatures,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
} from 'vscode-languageserver/node';
import { basename } from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { diagnose, toLspDiagnostics } from './analysis.js';
import { complete, COMPLETION_TRIGGERS } from './completion.js';
import { definition } from './definition.js';
import { asSpecDocument, uriToFileName } from './documents.js';
import { FitChecks } from './fit.js';
import { formatEdits } from './formatting.js';
import { hover } from './hover.js';
import { CHECK_INTERVAL_MS, Throttle } from './throttle.js';

export function startServer(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Connection {
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(input), new StreamMessageWriter(output));
  const documents = new TextDocuments(TextDocument);

  function guard<T>(what: string, fallback: T, work: () => T): T {
    try {
      return work();
    } catch (err) {
      connection.console.error(`${what} failed: ${(err as Error)?.stack ?? String(err)}`);
      return fallback;
    }
  }

  // Presets and base specs open in the editor are read as typed, not as last saved.
  const openText = (path: string) => documents.all().find((d) => uriToFileName(d.uri) === path)?.getText();

  const fits = new FitChecks();
  const checks = new Throttle(CHECK_INTERVAL_MS, (uri) => {
    const doc = documents.get(uri);
    if (!doc) return;
    const spec = asSpecDocument(doc);
    const diagnostics = guard(`diagnostics for ${uri}`, [], () => (spec ? diagnose(spec, openText) : []));
    void connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
    if (!spec || diagnostics.some((d) => d.severity === DiagnosticSeverity.Error)) return;
    // A spec the front end finds sound is then compiled against the adapter's limits, off this thread.
    const open = Object.fromEntries(documents.all().map((d) => [uriToFileName(d.uri), d.getText()]));
    const version = doc.version;
    fits.request(uri, { text: doc.getText(), fileName: spec.fileName, open }, (found) => {
      if (!found.length || documents.get(uri)?.version !== version) return;
      const more = guard(`fit diagnostics for ${uri}`, [], () => toLspDiagnostics(spec, found));
      void connection.sendDiagnostics({ uri, version, diagnostics: [...diagnostics, ...more] });
    });
  });
  connection.onShutdown(() => fits.dispose());

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: COMPLETION_TRIGGERS },
      hoverProvider: true,
      definitionProvider: true,
      documentFormattingProvider: true,
    },
    serverInfo: { name: 'simclr-compile' },
  }));

  documents.onDidOpen(({ document }) => checks.schedule(document.uri));
  documents.onDidChangeContent(({ document }) => {
    checks.schedule(document.uri);
    // Open specs that name this file (`extends`/`use` by preset name or path) see the edit too.
    const name = basename(uriToFileName(document.uri)).replace(/\.(simclr|ya?ml)$/, '');
    for (const other of documents.all()) {
      if (other.uri !== document.uri && name && other.getText().includes(name)) checks.schedule(other.uri);
    }
  });
  documents.onDidClose(({ document }) => {
    checks.cancel(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  const spec = (uri: string) => {
    const doc = documents.get(uri);
    return doc && asSpecDocument(doc);
  };
  connection.onCompletion(({ textDocument, position }) =>
    guard('completion', [], () => {
      const s = spec(textDocument.uri);
      return s ? complete(s, position) : [];
    }),
  );
  connection.onHover(({ textDocument, position }) =>
    guard('hover', null, () => {
      const s = spec(textDocument.uri);
      return s ? hover(s, position) : null;
    }),
  );
  connection.onDefinition(({ textDocument, position }) =>
    guard('definition', null, () => {
      const s = spec(textDocument.uri);
      return s ? definition(s, position) : null;
    }),
  );
  connection.onDocumentFormatting(({ textDocument }) =>
    guard('formatting', null, () => {
      const s = spec(textDocument.uri);
      return s ? formatEdits(s, openText) : null;
    }),
  );

  documents.listen(connection);
  connection.listen();
  return connection;
}
