// Text in the kernel: `show.text(...)` (formatted like console.log) and the
// text of a cell's last value: a tensor's shape, dtype and values; a string
// as is; anything else inspected.
import * as tf from '@tensorflow/tfjs';
import { format, inspect } from 'node:util';
import { MIME, type AenbOutput } from '../../common/aenb';
import type { KernelPart } from '../kind';

const textOutput = (text: string): AenbOutput => ({ items: [{ mime: MIME.textPlain, data: text }] });

function tensorPreview(t: tf.Tensor): string {
  const head = `Tensor  shape [${t.shape.join(', ')}]  dtype ${t.dtype}  (${t.size.toLocaleString('en-US')} values)`;
  if (t.isDisposed) return head + '  [disposed]';
  const preview = t.size <= 200 ? t.toString().replace(/^Tensor\n?/, '') : summarizeValues(t);
  return `${head}\n${preview}`;
}

function summarizeValues(t: tf.Tensor): string {
  const v = t.dataSync();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const first = Array.from(v.subarray(0, 8), (x) => Number(x.toPrecision(4))).join(', ');
  return `min ${min.toPrecision(4)}  max ${max.toPrecision(4)}  mean ${(sum / v.length).toPrecision(4)}\nfirst values: ${first}, …`;
}

export const kernel = {
  show: {
    /** Shows text under the cell, formatted like `console.log`. */
    text: (...args: unknown[]) => textOutput(format(...args)),
  },
  display(value: unknown) {
    if (value instanceof tf.Tensor) return textOutput(tensorPreview(value));
    if (typeof value === 'string') return textOutput(value);
    return textOutput(inspect(value, { depth: 4, colors: false, maxArrayLength: 50, breakLength: 100 }));
  },
} satisfies KernelPart;
