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
// its live one as soon as it reattaches. (../stored.ts applies it to notebooks,
// with the other live kinds' stored forms.)
import { interruptedText, type TrainingPayload } from './contract';

/** The stored form of a training payload: a running one becomes "interrupted"; any other is returned as is. */
export function settleTrainingPayload(p: TrainingPayload): TrainingPayload {
  if (p.state !== 'running') return p;
  const epoch = Math.min(p.epoch + 1, Math.max(1, p.epochs));
  const settled: TrainingPayload = { ...p, state: 'stopped', interrupted: { reason: 'saved-during-training', epoch } };
  settled.message = interruptedText(settled).replace(/^Interrupted/, 'interrupted');
  delete settled.etaSeconds;
  return settled;
}
