// Live outputs whose run is over in a stored notebook. A training chart and a
// live latent map say "running" only while a kernel updates them; a notebook
// saved during training (or reopened after its kernel ended) would keep that
// look with nothing behind it. Whatever writes or reads `.aenb` files (the
// serializer, the headless runner) and the HTML report stores and shows such
// an output settled: the chart as interrupted (./training/stale.ts), the map
// as done or interrupted (./latent/contract.ts). One table, by MIME type, of
// the kinds that have a stored form (each kind's `stored` in its index is the
// same function; a unit test checks the two agree). Pure: contracts only.
import type { AenbNotebook, AenbOutput, JsonValue } from '../common/aenb/types';
import { checkLatentPayload, LATENT_MIME, latentText, settleLatentPayload, type LatentPayload } from './latent/contract';
import { checkTrainingPayload, historyText, TRAINING_MIME, type TrainingPayload } from './training/contract';
import { settleTrainingPayload } from './training/stale';

const TEXT_MIME = 'text/plain';

interface Settler {
  check(v: unknown): string | undefined;
  /** The payload as stored; the same object when nothing changes. */
  settle(p: any): unknown;
  text(p: any): string;
}

/** The stored form of each kind that has one, by its MIME type. */
export const SETTLERS: Readonly<Record<string, Settler>> = {
  [TRAINING_MIME]: { check: checkTrainingPayload, settle: (p: TrainingPayload) => settleTrainingPayload(p), text: (p: TrainingPayload) => historyText(p) },
  [LATENT_MIME]: { check: checkLatentPayload, settle: (p: LatentPayload) => settleLatentPayload(p), text: (p: LatentPayload) => latentText(p) },
};

/** An output with its live payload (and that payload's text fallback) settled; the same object when nothing changes. */
export function settleOutput(output: AenbOutput): AenbOutput {
  for (const [at, item] of output.items.entries()) {
    const s = SETTLERS[item.mime];
    if (!s || s.check(item.data) !== undefined) continue;
    const settled = s.settle(item.data);
    if (settled === item.data) continue;
    const items = output.items.map((it, i) => {
      if (i === at) return { ...it, data: settled as JsonValue };
      if (it.mime === TEXT_MIME) return { ...it, data: s.text(settled) };
      return it;
    });
    return { ...output, items };
  }
  return output;
}

/** A notebook with every live output settled; the same object when there is none. */
export function settleNotebook(nb: AenbNotebook): AenbNotebook {
  let changed = false;
  const cells = nb.cells.map((c) => {
    if (c.kind !== 'code') return c;
    const outputs = c.outputs.map(settleOutput);
    if (outputs.every((o, i) => o === c.outputs[i])) return c;
    changed = true;
    return { ...c, outputs };
  });
  return changed ? { ...nb, cells } : nb;
}
