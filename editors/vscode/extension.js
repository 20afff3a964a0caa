// Starts `simclr-compile lsp --stdio` for .simclr files and spec YAML. The server itself decides
// which YAML files are specs (`*.simclr.yml` or the schema modeline), so all YAML is offered to it.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration('simclr').get('server.command', []);
  if (configured.length) return { command: configured[0], args: configured.slice(1) };
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const bin of ['node_modules/simclr-compile/bin/simclr-compile.js', 'bin/simclr-compile.js']) {
      const path = join(folder.uri.fsPath, bin);
      if (existsSync(path)) return { command: 'node', args: [path, 'lsp', '--stdio'] };
    }
  }
  return { command: 'simclr-compile', args: ['lsp', '--stdio'] };
}

function activate(context) {
  const server = serverCommand();
  client = new LanguageClient(
    'simclr',
    'simclr-compile',
    { command: server.command, args: server.args },
    {
      documentSelector: [
        { scheme: 'file', language: 'simclr' },
        { scheme: 'file', language: 'yaml' },
      ],
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client && client.stop();
}

module.exports = { activate, deactivate };
