/**
 * The local-socket transport: a kernel that outlives its window listens on a
 * Unix domain socket (a named pipe on Windows) in a private folder, and
 * whoever connects must first present the kernel's token (read from an
 * owner-only file). Messages are JSON, one per line.
 *
 * Handshake: the client's first line is
 *   {"$transport":"hello","token":"…","client":{"pid":…,"name":"…"}}
 * and the kernel answers {"$transport":"welcome",…} (then kernel messages
 * follow) or {"$transport":"refused","reason":"…"} and closes. A client that
 * says nothing within the handshake timeout, or sends more than a small
 * hello, is cut off. One client at a time: a newly accepted client replaces
 * the previous one, which receives {"$transport":"superseded"} and is closed.
 */
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { BaseChannel } from './channel';
import { restrictSocket, tokensMatch } from './private-files';

const HELLO_MAX_BYTES = 16 * 1024;
/** Longest message accepted once connected (a training output with every batch of a long run is a few MB). */
const MESSAGE_MAX_BYTES = 512 * 1024 * 1024;

export interface ClientInfo {
  /** Process id of the client (the extension host), so a kernel can tell whether it is still there. */
  pid: number;
  name?: string;
}

interface Hello {
  $transport: 'hello';
  token: string;
  client: ClientInfo;
}

/** Splits a byte stream into lines without copying more than once per line. */
class LineReader {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: () => number, private readonly onLine: (line: string) => void, private readonly onTooLong: () => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const line = this.parts.length ? Buffer.concat([...this.parts, piece], this.size + piece.length) : piece;
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      if (line.length) this.onLine(line.toString('utf8'));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.parts.push(rest);
      this.size += rest.length;
      if (this.size > this.max()) this.onTooLong();
    }
  }
}

/** A channel over a connected socket: one JSON message per line. */
export class SocketChannel extends BaseChannel {
  private reader: LineReader;
  private limit = MESSAGE_MAX_BYTES;

  constructor(readonly socket: net.Socket, initial?: Buffer) {
    super();
    this.reader = new LineReader(
      () => this.limit,
      (line) => this.line(line),
      () => this.fail(`a message longer than ${this.limit} bytes`),
    );
    socket.on('data', (d: Buffer) => this.reader.push(d));
    socket.on('close', () => this.ended('lost', 'the connection closed'));
    socket.on('error', () => undefined); // 'close' follows
    if (initial?.length) this.reader.push(initial);
  }

  private line(line: string): void {
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      this.fail('a line that is not JSON');
      return;
    }
    const t = (m as { $transport?: unknown } | null)?.$transport;
    if (t === 'superseded') {
      this.socket.destroy();
      this.ended('superseded', 'another window attached to this kernel');
      return;
    }
    if (t !== undefined) return; // transport frames after the handshake: nothing else is defined
    this.deliver(m);
  }

  private fail(what: string): void {
    this.socket.destroy();
    this.ended('protocol-error', `the other side sent ${what}`);
  }

  send(message: unknown): boolean {
    if (!this.isOpen || this.socket.destroyed) return false;
    this.socket.write(JSON.stringify(message) + '\n');
    return true;
  }

  /** Sends a transport frame (handshake answers, superseded). */
  sendFrame(frame: Record<string, unknown>): void {
    if (!this.socket.destroyed) this.socket.write(JSON.stringify(frame) + '\n');
  }

  protected doClose(): void {
    this.socket.end();
    this.socket.destroySoon?.();
  }
}

// ---------------------------------------------------------------------------
// Kernel side

export interface KernelSocketServerOptions {
  socketPath: string;
  token: string;
  /** What the welcome frame says about the kernel (besides `$transport`). */
  welcome: (client: ClientInfo) => Record<string, unknown>;
  /** A client passed the handshake; it replaces the previous one (already told and closed). */
  onClient: (channel: SocketChannel, client: ClientInfo) => void;
  handshakeTimeoutMs?: number;
  log?: (message: string) => void;
}

export class KernelSocketServer {
  private current?: SocketChannel;

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  /** Starts listening; resolves once the socket exists and is owner-only. */
  static listen(opts: KernelSocketServerOptions): Promise<KernelSocketServer> {
    const log = opts.log ?? (() => undefined);
    if (process.platform !== 'win32') rmSync(opts.socketPath, { force: true }); // a leftover of a dead kernel with this id
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: false });
      const self = new KernelSocketServer(server, opts.socketPath);
      server.on('connection', (socket) => self.handshake(socket, opts, log));
      server.once('error', reject);
      server.listen({ path: opts.socketPath, readableAll: false, writableAll: false }, () => {
        server.off('error', reject);
        server.on('error', (e) => log(`kernel socket: ${e.message}`));
        try {
          restrictSocket(opts.socketPath);
        } catch (e) {
          server.close();
          reject(e);
          return;
        }
        resolve(self);
      });
    });
  }

  private handshake(socket: net.Socket, opts: KernelSocketServerOptions, log: (m: string) => void): void {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      log('kernel socket: a client said nothing within the handshake time and was cut off');
      socket.destroy();
    }, opts.handshakeTimeoutMs ?? 5000);
    const refuse = (reason: string) => {
      clearTimeout(timer);
      socket.off('data', onData);
      log(`kernel socket: refused a client (${reason})`);
      socket.end(JSON.stringify({ $transport: 'refused', reason }) + '\n');
      socket.destroySoon?.();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const nl = buffered.indexOf(10);
      if (nl < 0) {
        if (buffered.length > HELLO_MAX_BYTES) refuse('the hello is too long');
        return;
      }
      socket.off('data', onData);
      clearTimeout(timer);
      let hello: Hello;
      try {
        hello = JSON.parse(buffered.subarray(0, nl).toString('utf8')) as Hello;
      } catch {
        refuse('the first line is not a hello');
        return;
      }
      if (!hello || hello.$transport !== 'hello' || !tokensMatch(hello.token, opts.token)) {
        refuse('wrong or missing token');
        return;
      }
      const client: ClientInfo = { pid: Number(hello.client?.pid) || 0, name: typeof hello.client?.name === 'string' ? hello.client.name : undefined };
      const previous = this.current;
      const channel = new SocketChannel(socket);
      this.current = channel;
      if (previous?.isOpen) {
        previous.sendFrame({ $transport: 'superseded' });
        previous.close();
      }
      channel.sendFrame({ $transport: 'welcome', ...opts.welcome(client) });
      channel.onClose(() => {
        if (this.current === channel) this.current = undefined;
      });
      opts.onClient(channel, client);
      const rest = buffered.subarray(nl + 1);
      if (rest.length) socket.unshift(rest);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }

  get client(): SocketChannel | undefined {
    return this.current?.isOpen ? this.current : undefined;
  }

  close(): void {
    this.current?.close();
    this.server.close();
    if (process.platform !== 'win32') rmSync(this.socketPath, { force: true });
  }
}

// ---------------------------------------------------------------------------
// Host side

export class KernelConnectError extends Error {
  override readonly name = 'KernelConnectError';
  constructor(
    message: string,
    /** 'unreachable': nothing listens (the kernel is gone); 'refused': it would not take us. */
    readonly kind: 'unreachable' | 'refused' | 'timeout',
  ) {
    super(message);
  }
}

/** Connects to a kernel's socket and passes the handshake; resolves with the channel and the kernel's welcome. */
export function connectKernelSocket(
  socketPath: string,
  token: string,
  client: ClientInfo,
  timeoutMs = 5000,
): Promise<{ channel: SocketChannel; welcome: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = Buffer.alloc(0);
    let done = false;
    const finish = (e?: Error, value?: { channel: SocketChannel; welcome: Record<string, unknown> }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      if (e) {
        socket.destroy();
        reject(e);
      } else resolve(value!);
    };
    const timer = setTimeout(() => finish(new KernelConnectError(`The kernel at ${socketPath} did not answer within ${timeoutMs / 1000} s.`, 'timeout')), timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      finish(new KernelConnectError(`Cannot reach the kernel at ${socketPath} (${e.code ?? e.message}).`, 'unreachable'));
    });
    socket.once('close', () => finish(new KernelConnectError(`The kernel at ${socketPath} closed the connection during the handshake.`, 'unreachable')));
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const nl = buffered.indexOf(10);
      if (nl < 0) {
        if (buffered.length > HELLO_MAX_BYTES) finish(new KernelConnectError('The kernel sent an oversized handshake.', 'refused'));
        return;
      }
      let frame: { $transport?: string; reason?: string };
      try {
        frame = JSON.parse(buffered.subarray(0, nl).toString('utf8')) as typeof frame;
      } catch {
        finish(new KernelConnectError('The kernel did not answer the handshake.', 'refused'));
        return;
      }
      if (frame.$transport === 'refused') {
        finish(new KernelConnectError(`The kernel refused the connection: ${frame.reason ?? 'no reason given'}.`, 'refused'));
        return;
      }
      if (frame.$transport !== 'welcome') {
        finish(new KernelConnectError('The kernel did not answer the handshake.', 'refused'));
        return;
      }
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      const { $transport: _t, ...welcome } = frame;
      const channel = new SocketChannel(socket, buffered.subarray(nl + 1));
      finish(undefined, { channel, welcome });
    };
    socket.on('data', onData);
    socket.once('connect', () => {
      const hello: Hello = { $transport: 'hello', token, client };
      socket.write(JSON.stringify(hello) + '\n');
    });
  });
}
