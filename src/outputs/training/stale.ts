// Training outputs of runs that are not live any more.
//
// A training output says "running" only while a kernel is updating it. When
// a notebook is saved during training, the file would keep that state with
// nothing behind it: reopened later it would show a frozen progress bar and a
// Stop button that cannot stop anything. So whatever writes or reads `.aenb`
// files (the serializer, the headless runner, HTML reports) stores and shows
// such an output as interrupted: "Interrupted at epoch 3 of 20 (the notebook
// was saved during training)", state "stopped", no Stop button. A kernel that
// is still running the cell (after a window reload) replaces the output with
// its live one as soon as it reattaches.
import type { AenbNotebook, AenbOutput, AenbOutputItem, JsonValue } from '../../common/aenb/types';
import { checkTrainingPayload, historyText, interruptedText, TRAINING_MIME, type TrainingPayload } from './contract';

const TEXT_MIME = 'text/plain';

/** The stored form of a training payload: a running one becomes "interrupted"; any other is returned as is. */
export function settleTrainingPayload(p: TrainingPayload): TrainingPayload {
  if (p.state !== 'running') return p;
  const epoch = Math.min(p.epoch + 1, Math.max(1, p.epochs));
  const settled: TrainingPayload = { ...p, state: 'stopped', interrupted: { reason: 'saved-during-training', epoch } };
  settled.message = interruptedText(settled).replace(/^Interrupted/, 'interrupted');
  delete settled.etaSeconds;
  return settled;
}

function isRunningTraining(item: AenbOutputItem): boolean {
  const d = item.data as { state?: unknown } | null;
  return item.mime === TRAINING_MIME && typeof d === 'object' && d !== null && !Array.isArray(d) && d.state === 'running';
}

/** An output with its running training payload (and that payload's text fallback) settled; the same object when there is none. */
export function settleOutput(output: AenbOutput): AenbOutput {
  const at = output.items.findIndex(isRunningTraining);
  if (at < 0 || checkTrainingPayload(output.items[at].data) !== undefined) return output;
  const settled = settleTrainingPayload(output.items[at].data as unknown as TrainingPayload);
  const items = output.items.map((it, i) => {
    if (i === at) return { ...it, data: settled as unknown as JsonValue };
    if (it.mime === TEXT_MIME) return { ...it, data: historyText(settled) };
    return it;
  });
  return { ...output, items };
}

/** A notebook with every running training output settled; the same object when there is none. */
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
