// Small helpers the kinds' contracts share: runtime checks of JSON payloads
// UTF-8 bytes of text items, and items to the stored form. Pure: no Node, no DOM.
import { outputDataFromBytes, type AenbOutput } from '../common/aenb';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export const isOptNumber = (v: unknown): boolean => v === undefined || v === null || typeof v === 'number';

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A JSON payload item and its text/plain fallback, richest first. */
export function jsonWithText(mime: string, payload: unknown, text: string): { mime: string; data: Uint8Array }[] {
  return [
    { mime, data: utf8(JSON.stringify(payload)) },
    { mime: 'text/plain', data: utf8(text) },
  ];
}

/** Output items as raw bytes to the stored form of an output (see `outputDataFromBytes`). */
export function toOutput(items: readonly { mime: string; data: Uint8Array }[]): AenbOutput {
  return { items: items.map((i) => ({ mime: i.mime, data: outputDataFromBytes(i.mime, i.data) })) };
}
