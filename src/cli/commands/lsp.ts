import type { Command } from 'commander';

export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('run the language server for .simclr and spec YAML files (for editors)')
    .option('--stdio', 'speak LSP over stdin/stdout (the only transport; editors pass it)')
    .action(async () => {
      // Loaded on demand so other commands never pay for the server's modules. The server keeps the
      // process alive on stdin and ends it on the `exit` notification or when stdin closes.
      const { startServer } = await import('../../lsp/server.js');
      startServer(process.stdin, process.stdout);
    });
}
