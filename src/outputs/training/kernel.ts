// Training in the kernel: payloads from live progress events and from finished
// histories (ours and tfjs's), `show.history`, and a History as a cell's value.
import * as tf from '@tensorflow/tfjs';
import type { AenbOutput, JsonValue } from '../../common/aenb';
import { History, type TrainingEvent, type TrainingProgress } from '../../lib/training';
import type { KernelPart } from '../kind';
import { batchSeries, BatchSeriesEncoder, historyFromKeras, historyText, jsonNumber, newTrainingPayload, TRAINING_MIME, type TrainingEventInfo, type TrainingPayload } from './contract';

/** The state a live progress event puts its run in: running until its end (done or stopped) or its error. */
export function progressState(p: TrainingProgress): TrainingPayload['state'] {
  if (p.phase === 'end') return p.stopped ? 'stopped' : 'done';
  return p.phase === 'error' ? 'error' : 'running';
}

/** The training payload for a live progress event. */
export function progressPayload(
  p: TrainingProgress,
  state: TrainingPayload['state'] = progressState(p),
  encoder?: BatchSeriesEncoder,
): TrainingPayload {
  const payload = newTrainingPayload({
    runId: p.runId,
    epochs: p.epochs,
    batchesPerEpoch: p.batchesPerEpoch,
    title: p.model,
    samples: p.samples,
    batchSize: p.batchSize,
  });
  payload.state = state;
  const finished = p.history.loss?.length ?? 0;
  payload.epoch = finished;
  payload.batch = p.phase === 'batch' || p.phase === 'error' ? p.batch : 0;
  payload.samplesPerSecond = jsonNumber(p.samplesPerSecond) ?? undefined;
  payload.etaSeconds = state === 'running' ? (jsonNumber(p.etaSeconds) ?? undefined) : undefined;
  payload.elapsedSeconds = p.elapsedSeconds;
  payload.history = historyFromKeras(p.history);
  if (p.batchLosses.length) payload.batches = encoder ? encoder.series(p.batchLosses) : batchSeries(p.batchLosses);
  if (p.stopReason) payload.message = p.stopReason;
  if (p.phase === 'error') {
    // Where the run was, unless the message already says (the loop's own "diverged at epoch 2, batch 7").
    const at = `epoch ${p.epoch}, batch ${p.batch + 1}`;
    const message = p.error ?? 'training failed';
    payload.message = message.includes(`at ${at}`) ? message : `${message} (${at})`;
  }
  if (p.events?.length) payload.events = eventInfo(p.events);
  return payload;
}

/** Checkpoints written and resumes, as the payload carries them. */
function eventInfo(events: TrainingEvent[]): TrainingEventInfo[] {
  return events.map((e) => ({ kind: e.kind, epoch: e.epoch, message: e.message }));
}

/** The training payload of a finished History (ours or tfjs's). */
export function historyPayload(h: History | tf.History, title?: string): TrainingPayload {
  if (h instanceof History) {
    const payload = newTrainingPayload({
      runId: `history-${h.params.model}-${h.epoch.length}`,
      epochs: h.params.epochs,
      batchesPerEpoch: h.params.steps,
      title: title ?? h.params.model,
      samples: h.params.samples,
      batchSize: h.params.batchSize,
    });
    payload.state = h.stopped ? 'stopped' : 'done';
    payload.epoch = h.epoch.length;
    payload.history = historyFromKeras(h.history);
    payload.elapsedSeconds = h.durationMs / 1000;
    if (h.batchLosses.length) payload.batches = batchSeries(h.batchLosses);
    if (h.stopReason) payload.message = h.stopReason;
    if (h.events.length) payload.events = eventInfo(h.events);
    return payload;
  }
  // tf.History from tfjs's own model.fit
  const series: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(h.history)) series[k] = (v as (number | tf.Tensor)[]).map((x) => (typeof x === 'number' ? x : x.dataSync()[0]));
  const epochs = h.epoch.length;
  const payload = newTrainingPayload({
    runId: `history-${epochs}-${Date.now().toString(36)}`,
    epochs,
    batchesPerEpoch: (h.params?.steps as number | undefined) ?? 1,
    title,
  });
  payload.state = 'done';
  payload.epoch = epochs;
  payload.history = historyFromKeras(series);
  return payload;
}

/**
 * The output of a training payload in its stored form (the payload itself,
 * as `.aenb` stores JSON items, and its text/plain log), built directly: no
 * round trip through JSON text and bytes.
 */
export function trainingOutput(p: TrainingPayload): AenbOutput {
  return { items: [{ mime: TRAINING_MIME, data: p as unknown as JsonValue }, { mime: 'text/plain', data: historyText(p) }] };
}

export const kernel = {
  show: {
    /** Draws a training history (what `fit` returns, ours or tfjs's) as a loss chart under the cell. */
    history: (h: History | tf.History, title?: string) => trainingOutput(historyPayload(h, title)),
  },
  display: (value: unknown) => (value instanceof History || value instanceof tf.History ? trainingOutput(historyPayload(value)) : undefined),
} satisfies KernelPart;
