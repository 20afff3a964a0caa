// A minimal LSP client that talks to a server child process the way an editor does: JSON-RPC 2.0
// messages over stdio with Content-Length framing. The lsp tests and the lsp bench drive the real
// `simclr-compile lsp --stdio` through it, so both see exactly what an editor would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RpcMessage {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

interface Waiter {
  method: string;
  accept: (params: any) => boolean;
  resolve: (params: any) => void;
}

export class LspClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: RpcMessage) => void; method: string }>();
  private waiters: Waiter[] = [];
  /** Every notification received, in order (tests read publishDiagnostics from here). */
  readonly notifications: RpcMessage[] = [];
  stderr = '';
  exited: number | null = null;

  constructor(command: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.child.on('exit', (code) => {
      this.exited = code ?? -1;
      for (const { resolve, method } of this.pending.values()) {
        resolve({ jsonrpc: '2.0', error: { code: -32099, message: `server exited (${code}) during ${method}` } });
      }
      this.pending.clear();
    });
  }

  /** Sends a request and resolves with the whole response message (result or error). */
  request(method: string, params: unknown): Promise<RpcMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, method });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Sends a request and resolves with its result; a response with an error rejects. */
  async call<T = any>(method: string, params: unknown): Promise<T> {
    const reply = await this.request(method, params);
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result as T;
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Resolves with the params of the next notification `method` (arriving from now on) that `accept`s. */
  waitFor<T = any>(method: string, accept: (params: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        method,
        accept,
        resolve: (params) => {
          clearTimeout(timer);
          resolve(params);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The usual start: initialize with the capabilities the server reads, then initialized. */
  async initialize(rootUri: string | null = null): Promise<any> {
    const result = await this.call('initialize', {
      processId: process.pid,
      rootUri,
      capabilities: {
        textDocument: {
          publishDiagnostics: { versionSupport: true },
          completion: { completionItem: { documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
        },
      },
    });
    this.notify('initialized', {});
    return result;
  }

  /** shutdown, exit, and the process's exit code. */
  async close(): Promise<number> {
    if (this.exited === null) {
      const done = new Promise<number>((resolve) => this.child.once('exit', (code) => resolve(code ?? -1)));
      await this.request('shutdown', null);
      this.notify('exit', null);
      return done;
    }
    return this.exited;
  }

  kill(): void {
    if (this.exited === null) this.child.kill();
  }

  private send(message: RpcMessage): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString('ascii');
      const length = Number(/Content-Length:\s*(\d+)/i.exec(header)?.[1]);
      if (!Number.isFinite(length)) throw new Error(`bad LSP header: ${header}`);
      const start = headerEnd + 4;
      if (this.buffer.length < start + length) return;
      const message = JSON.parse(this.buffer.subarray(start, start + length).toString('utf8')) as RpcMessage;
      this.buffer = this.buffer.subarray(start + length);
      this.dispatch(message);
    }
  }

  private dispatch(message: RpcMessage): void {
    if (message.method === undefined) {
      const entry = this.pending.get(Number(message.id));
      if (entry) {
        this.pending.delete(Number(message.id));
        entry.resolve(message);
      }
      return;
    }
    if (message.id !== undefined) {
      // A server-to-client request (registerCapability, configuration, ...): an editor answers each.
      this.send({ jsonrpc: '2.0', id: message.id, result: null });
      return;
    }
    this.notifications.push(message);
    const waiter = this.waiters.find((w) => w.method === message.method && w.accept(message.params));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(message.params);
    }
  }
}

/** Starts `simclr-compile lsp --stdio` from the package root the way an editor launches it. */
export function startSimclrServer(packageRoot: string, env?: NodeJS.ProcessEnv): LspClient {
  return new LspClient(process.execPath, ['bin/simclr-compile.js', 'lsp', '--stdio'], packageRoot, env);
}
