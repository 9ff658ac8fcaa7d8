// Summaries in the kernel: our models' summaries and tfjs models' layers as
// the renderer's payload, `show.summary`, and a model as a cell's value.
import * as tf from '@tensorflow/tfjs';
import type { AenbOutput } from '../../common/aenb';
import { AutoencoderModel } from '../../lib/models';
import { describeModel, type ModelSummary } from '../../lib/summary';
import type { KernelPart } from '../kind';
import { toOutput } from '../payload';
import { summaryOutputItems, summaryPayload, type SummaryLayer } from './contract';

/** Our summary data as the renderer's payload: Encoder/Decoder as containers, tied kernels marked. */
export function summaryToPayload(s: ModelSummary, modelType?: string, inputShape?: number[]) {
  const layers: SummaryLayer[] = [];
  const groups = new Map<string | undefined, typeof s.layers>();
  for (const l of s.layers) {
    if (!groups.has(l.group)) groups.set(l.group, []);
    groups.get(l.group)!.push(l);
  }
  for (const [group, members] of groups) {
    const depth = group ? 1 : 0;
    if (group) {
      const last = members[members.length - 1];
      layers.push({
        name: group,
        type: 'Sequential',
        outputShape: last.outputShape,
        params: members.reduce((a, l) => a + l.params + l.shared.reduce((b, x) => b + x.params, 0), 0),
        trainable: members.every((l) => l.trainable),
        depth: 0,
      });
    }
    for (const l of members) {
      const borrowed = l.shared.reduce((a, x) => a + x.params, 0);
      layers.push({
        name: l.name,
        type: l.className,
        outputShape: l.outputShape,
        params: l.params + borrowed,
        trainable: l.trainable,
        depth,
        ...(l.shared.length
          ? { shared: l.shared.map((x) => ({ weight: 'kernel', owner: x.from, params: x.params, transposed: true, trainable: true })) }
          : {}),
      });
    }
  }
  return summaryPayload(s.name, layers, { modelType, inputShape: inputShape ? [null, ...inputShape] : undefined });
}

export function summaryOutput(model: AutoencoderModel | tf.LayersModel): AenbOutput {
  if (model instanceof AutoencoderModel) {
    return toOutput(summaryOutputItems(summaryToPayload(model.summary(), model.className, model.inputShape)));
  }
  const s = describeModel(model.name, model.layers, model);
  return toOutput(summaryOutputItems(summaryToPayload(s, model.getClassName())));
}

export const kernel = {
  show: {
    /** Shows a Keras-style summary table of the model: layers, output shapes and parameter counts. */
    summary: summaryOutput,
  },
  display: (value: unknown) => (value instanceof AutoencoderModel || value instanceof tf.LayersModel ? summaryOutput(value) : undefined),
} satisfies KernelPart;
