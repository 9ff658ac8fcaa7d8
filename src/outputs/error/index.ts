// Errors (VS Code's error MIME type, `NotebookErrorData` JSON): the one
// builder of an error output, whoever reports the error (the kernel for a
// cell, the host when a kernel cannot start, the runner), and its report view.
import { MIME, type AenbOutput, type NotebookErrorData } from '../../common/aenb';
import type { OutputKind } from '../kind';
import { report } from './report';

/** `NotebookErrorData` of any thrown value. */
export function errorData(error: unknown): NotebookErrorData {
  if (error !== null && typeof error === 'object') {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown };
    const data: NotebookErrorData = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(error),
    };
    if (typeof e.stack === 'string') data.stack = e.stack;
    return data;
  }
  return { name: 'Error', message: String(error) };
}

/** The error output of an error (or of any thrown value); `stack` is always written, "" when unknown. */
export function errorOutput(error: NotebookErrorData | unknown): AenbOutput {
  const e = errorData(error);
  return { items: [{ mime: MIME.error, data: { name: e.name, message: e.message, stack: e.stack ?? '' } }] };
}

export const error: OutputKind<NotebookErrorData, undefined> = {
  name: 'error',
  mimes: [MIME.error],
  rendered: false,
  report,
};
