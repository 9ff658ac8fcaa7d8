/**
 * A channel carries JSON messages between a kernel and the host that drives
 * it, whatever connects them: the IPC channel of a forked child (the kernel
 * ends with its host) or a local socket (the kernel outlives its window; see
 * socket.ts). The kernel's message protocol runs over either unchanged.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export type CloseReason =
  /** This side called close(). */
  | 'closed'
  /** The other side went away (process exited, socket closed). */
  | 'lost'
  /** The other side sent something that is not the protocol. */
  | 'protocol-error'
  /** Another host attached to this kernel (socket transport). */
  | 'superseded';

export interface Channel {
  /** Sends a message; false when the channel is closed (the message is dropped). */
  send(message: unknown): boolean;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: (reason: CloseReason, detail?: string) => void): void;
  close(): void;
  readonly isOpen: boolean;
}

/** Base with the listener bookkeeping. */
export abstract class BaseChannel implements Channel {
  protected readonly events = new EventEmitter();
  private open = true;
  /** Messages that arrived before anyone listened (delivered to the first listener). */
  private early: unknown[] | undefined = [];

  abstract send(message: unknown): boolean;
  protected abstract doClose(): void;

  get isOpen(): boolean {
    return this.open;
  }

  onMessage(listener: (message: unknown) => void): void {
    this.events.on('message', listener);
    const early = this.early;
    this.early = undefined;
    for (const m of early ?? []) listener(m);
  }

  onClose(listener: (reason: CloseReason, detail?: string) => void): void {
    this.events.on('close', listener);
  }

  protected deliver(message: unknown): void {
    if (!this.open) return;
    if (this.early) this.early.push(message);
    else this.events.emit('message', message);
  }

  /** Marks the channel closed (once) and tells the listeners why. */
  protected ended(reason: CloseReason, detail?: string): void {
    if (!this.open) return;
    this.open = false;
    this.events.emit('close', reason, detail);
    this.events.removeAllListeners();
  }

  close(): void {
    if (!this.open) return;
    this.doClose();
    this.ended('closed');
  }
}

/** The host's side of a forked kernel's IPC channel. */
export class ChildIpcChannel extends BaseChannel {
  constructor(private readonly child: ChildProcess) {
    super();
    child.on('message', (m: unknown) => this.deliver(m));
    child.on('disconnect', () => this.ended('lost', 'the kernel process disconnected'));
    child.on('exit', (code, signal) => this.ended('lost', signal ? `signal ${signal}` : `exit code ${code}`));
  }

  send(message: unknown): boolean {
    if (!this.isOpen || !this.child.connected) return false;
    try {
      this.child.send(message as object);
      return true;
    } catch {
      return false;
    }
  }

  protected doClose(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** The kernel's side of its IPC channel to the host that forked it. */
export class ParentIpcChannel extends BaseChannel {
  constructor(private readonly proc: NodeJS.Process = process) {
    super();
    proc.on('message', (m: unknown) => this.deliver(m));
    proc.on('disconnect', () => this.ended('lost', 'the host disconnected'));
  }

  send(message: unknown): boolean {
    if (!this.isOpen || !this.proc.connected || !this.proc.send) return false;
    this.proc.send(message as object);
    return true;
  }

  protected doClose(): void {
    if (this.proc.connected) this.proc.disconnect?.();
  }
}
