// Request/reply over a one-way message channel (the kernel's IPC channel, VS
// Code's renderer messaging). Pure: no Node, no DOM.
//
// A side that asks sends  { type: 'request', id, method, params };
// the side that answers   { type: 'reply', replyTo: id, ok: true, result }
//                      or { type: 'reply', replyTo: id, ok: false, error: { code, message } };
// and the asking side may { type: 'cancel', id } a request it no longer needs.
//
// Errors are values: `request()` never rejects. It resolves with
// `{ ok: true, value }` or `{ ok: false, error }`, where the error says what
// happened: the other side has no such method, the handler failed, no reply
// came in time, the caller cancelled, or the channel closed (a kernel that
// exited, a renderer without messaging).
//
// A protocol is a map from method names to their params and result types, so
// that both ends are checked by the compiler:
//   type KernelMethods = { ping: { params: { echo?: string }; result: PingResult } };
//   const r = await endpoint.request('ping', {});            // r: Result<PingResult>

export type Methods = Record<string, { params: unknown; result: unknown }>;

export type ReplyErrorCode = 'unknown-method' | 'bad-request' | 'failed' | 'timeout' | 'cancelled' | 'unavailable';

export interface ReplyError {
  code: ReplyErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ReplyError };

export interface RequestMessage<M extends Methods = Methods, K extends keyof M & string = keyof M & string> {
  type: 'request';
  id: string;
  method: K;
  params: M[K]['params'];
}

export type ReplyMessage<R = unknown> = { type: 'reply'; replyTo: string } & ({ ok: true; result: R } | { ok: false; error: ReplyError });

export interface CancelMessage {
  type: 'cancel';
  id: string;
}

export type EnvelopeMessage = RequestMessage | ReplyMessage | CancelMessage;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `m` is a request, reply or cancel message (the rest of a channel's traffic is not). */
export function isEnvelope(m: unknown): m is EnvelopeMessage {
  if (!isObject(m)) return false;
  if (m.type === 'request') return typeof m.id === 'string' && typeof m.method === 'string';
  if (m.type === 'reply') return typeof m.replyTo === 'string' && typeof m.ok === 'boolean';
  if (m.type === 'cancel') return typeof m.id === 'string';
  return false;
}

export interface RequestOptions {
  /** Give up after this long (the result is a `timeout` error). Default 30 s. */
  timeoutMs?: number;
  /** Aborting it cancels the request (the result is a `cancelled` error; the other side is told). */
  signal?: AbortSignal;
}

/** What a handler gets besides the params. */
export interface HandlerContext {
  /** Aborted when the asking side cancels the request or the channel closes. */
  readonly signal: AbortSignal;
}

export type Handler<M extends Methods, K extends keyof M> = (params: M[K]['params'], ctx: HandlerContext) => M[K]['result'] | Promise<M[K]['result']>;

/** A handler's way to fail with a specific code (anything else thrown is `failed`). */
export class RequestError extends Error {
  constructor(
    readonly code: ReplyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

interface Pending {
  resolve: (r: Result<unknown>) => void;
  timer?: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

let endpointCounter = 0;

/**
 * One end of a channel: sends requests to the other end (`Out` methods) and
 * answers the other end's requests (`In` methods). Feed it every message that
 * arrives (`receive`); it returns false for messages that are not its own.
 */
export class Endpoint<Out extends Methods, In extends Methods = Methods> {
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<string, Handler<In, keyof In>>();
  private readonly running = new Map<string, AbortController>();
  private readonly prefix: string;
  private counter = 0;
  private closed?: string;

  /**
   * @param post sends a message to the other end.
   * @param name names this end in error messages ("the kernel").
   */
  constructor(
    private readonly post: (m: EnvelopeMessage) => void,
    private readonly peerName = 'the other side',
  ) {
    this.prefix = `${(++endpointCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}-`;
  }

  /** Answers requests for `method` (replacing an earlier handler). */
  handle<K extends keyof In & string>(method: K, handler: Handler<In, K>): this {
    this.handlers.set(method, handler as unknown as Handler<In, keyof In>);
    return this;
  }

  /** Asks the other end; resolves with its answer or an error value, never rejects. */
  request<K extends keyof Out & string>(method: K, params: Out[K]['params'], options: RequestOptions = {}): Promise<Result<Out[K]['result']>> {
    if (this.closed !== undefined) return Promise.resolve({ ok: false, error: { code: 'unavailable', message: this.closed } });
    if (options.signal?.aborted) return Promise.resolve({ ok: false, error: { code: 'cancelled', message: `The request "${method}" was cancelled.` } });
    const id = this.prefix + ++this.counter;
    return new Promise<Result<Out[K]['result']>>((resolve) => {
      const onAbort = () => {
        this.settle(id, { ok: false, error: { code: 'cancelled', message: `The request "${method}" was cancelled.` } });
        this.send({ type: 'cancel', id });
      };
      const p: Pending = {
        resolve: resolve as (r: Result<unknown>) => void,
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      };
      const timeoutMs = options.timeoutMs ?? 30_000;
      if (Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.settle(id, { ok: false, error: { code: 'timeout', message: `${capitalize(this.peerName)} did not answer "${method}" within ${formatSeconds(timeoutMs)}.` } });
          this.send({ type: 'cancel', id });
        }, timeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      if (!this.send({ type: 'request', id, method, params })) {
        this.settle(id, { ok: false, error: { code: 'unavailable', message: `Could not reach ${this.peerName}.` } });
      }
    });
  }

  /**
   * Handles a message if it is a request, reply or cancel; returns false
   * otherwise. `reply` overrides where answers go (one endpoint serving
   * several peers, e.g. the renderers of several editors).
   */
  receive(message: unknown, reply: (m: EnvelopeMessage) => void = this.post): boolean {
    if (!isEnvelope(message)) return false;
    switch (message.type) {
      case 'reply':
        this.settle(message.replyTo, message.ok ? { ok: true, value: message.result } : { ok: false, error: replyError(message.error) });
        break;
      case 'cancel':
        this.running.get(message.id)?.abort();
        break;
      case 'request':
        void this.serve(message, reply);
        break;
    }
    return true;
  }

  /** Ends every waiting request with an `unavailable` error and aborts running handlers; later requests fail the same way. */
  close(reason: string): void {
    this.closed = reason;
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, error: { code: 'unavailable', message: reason } });
    for (const c of this.running.values()) c.abort();
    this.running.clear();
  }

  /** Accepts requests again after `close` (a restarted kernel). */
  reopen(): void {
    this.closed = undefined;
  }

  /** Requests waiting for a reply. */
  get waiting(): number {
    return this.pending.size;
  }

  private send(m: EnvelopeMessage, via: (m: EnvelopeMessage) => void = this.post): boolean {
    try {
      via(m);
      return true;
    } catch {
      return false;
    }
  }

  private settle(id: string, r: Result<unknown>): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.cleanup();
    p.resolve(r);
  }

  private async serve(m: RequestMessage, reply: (m: EnvelopeMessage) => void): Promise<void> {
    const handler = this.handlers.get(m.method);
    if (!handler) {
      this.send({ type: 'reply', replyTo: m.id, ok: false, error: { code: 'unknown-method', message: `${capitalize(this.peerName)} asked for "${m.method}", which this side does not answer.` } }, reply);
      return;
    }
    const controller = new AbortController();
    this.running.set(m.id, controller);
    let answer: ReplyMessage;
    try {
      const result = await handler(m.params as In[keyof In]['params'], { signal: controller.signal });
      answer = { type: 'reply', replyTo: m.id, ok: true, result };
    } catch (e) {
      const code: ReplyErrorCode = e instanceof RequestError ? e.code : controller.signal.aborted ? 'cancelled' : 'failed';
      answer = { type: 'reply', replyTo: m.id, ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } };
    } finally {
      this.running.delete(m.id);
    }
    if (!controller.signal.aborted || answer.ok === false) this.send(answer, reply);
  }
}

const CODES: readonly ReplyErrorCode[] = ['unknown-method', 'bad-request', 'failed', 'timeout', 'cancelled', 'unavailable'];

function replyError(e: unknown): ReplyError {
  if (isObject(e) && typeof e.message === 'string') return { code: CODES.includes(e.code as ReplyErrorCode) ? (e.code as ReplyErrorCode) : 'failed', message: e.message };
  return { code: 'failed', message: 'The request failed without saying why.' };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
}
