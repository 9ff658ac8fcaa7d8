// What the status bar says about a notebook's kernel. No `vscode` import:
// status-bar.ts puts the result into a StatusBarItem.
import type { BackendChoiceName, KernelBackendInfo, ProgressMessage } from '../common/messages/kernel';

export type SessionState = 'stopped' | 'starting' | 'idle' | 'busy' | 'failed';

export interface StatusInput {
  trusted: boolean;
  state: SessionState;
  /** The backend setting (what the next kernel will ask for). */
  requested: BackendChoiceName;
  /** The running kernel's backend. */
  backend?: KernelBackendInfo;
  /** Latest training progress of the running cell. */
  progress?: ProgressMessage;
  /** Why the kernel failed (state "failed"). */
  error?: string;
  pid?: number;
  /** Cells waiting behind the running one. */
  queued?: number;
}

export interface StatusView {
  text: string;
  /** Markdown (command links are trusted by the caller). */
  tooltip: string;
  /** Warning colors: Restricted Mode, a failed kernel, or a backend that fell back. */
  warning: boolean;
  /** Whether clicking should offer the backend choice (else: Workspace Trust). */
  command: 'selectBackend' | 'manageTrust';
}

function mdEscape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

function loss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

export function kernelStatus(s: StatusInput): StatusView {
  const links = '[Select backend](command:autoencoderNotebooks.selectBackend) · [Restart kernel](command:autoencoderNotebooks.restartKernel) · [Show log](command:autoencoderNotebooks.showLog)';
  if (!s.trusted) {
    return {
      text: '$(shield) Autoencoder: Restricted Mode',
      tooltip:
        '**Restricted Mode**: this workspace is not trusted, so no notebook cell runs here (cells run code on this machine). ' +
        'Saved outputs still show.\n\n[Manage Workspace Trust](command:workbench.trust.manage)',
      warning: true,
      command: 'manageTrust',
    };
  }
  const b = s.backend;
  const lines: string[] = [];
  let text: string;
  let warning = false;
  switch (s.state) {
    case 'stopped':
      text = `$(circle-outline) Kernel: ${s.requested}`;
      lines.push(`**Kernel not started.** It starts with the first cell you run, asking for the **${s.requested}** backend.`);
      break;
    case 'starting':
      text = `$(loading~spin) Kernel: starting (${s.requested})`;
      lines.push(`**Kernel starting**, asking for the **${s.requested}** backend…`);
      break;
    case 'failed':
      text = '$(error) Kernel: failed';
      warning = true;
      lines.push(`**The kernel could not start.** ${mdEscape(s.error ?? '')}`);
      break;
    case 'idle':
    case 'busy': {
      const name = b?.name ?? s.requested;
      if (s.state === 'idle') text = `$(check) ${name} · idle`;
      else if (s.progress && s.progress.state === 'running') {
        const p = s.progress;
        text = `$(sync~spin) ${name} · epoch ${Math.max(1, Math.min(p.epoch, p.epochs))}/${p.epochs} · loss ${loss(p.loss)}`;
      } else text = `$(sync~spin) ${name} · running`;
      if (s.queued) text += ` (+${s.queued} queued)`;
      lines.push(`**Kernel ${s.state === 'idle' ? 'idle' : 'running a cell'}** on the **${name}** backend${b?.simd ? ' (SIMD)' : ''}.`);
      break;
    }
  }
  if (b && (s.state === 'idle' || s.state === 'busy')) {
    lines.push(mdEscape(b.reason));
    if (b.compute) lines.push(`Training on ${mdEscape(b.compute.description)}.`);
    if (b.fellBack) {
      warning = true;
      lines.push(`$(warning) You asked for **${b.requested}**, which could not start here.`);
    }
    if (b.requested !== s.requested) lines.push(`The backend setting is now **${s.requested}**: restart the kernel to use it.`);
    lines.push(`TensorFlow.js ${b.tfjsVersion}${s.pid ? ` · process ${s.pid}` : ''}`);
  }
  lines.push(links);
  return { text, tooltip: lines.join('\n\n'), warning, command: 'selectBackend' };
}
