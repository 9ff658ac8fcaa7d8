// The training kind: live progress and finished histories, drawn by our
// renderer as a loss chart (see ./contract.ts for the payload).
import type { OutputKind } from '../kind';
import { checkTrainingPayload, historyText, TRAINING_MIME, type TrainingPayload } from './contract';
import { kernel } from './kernel';
import { settleTrainingPayload } from './stale';
import { view } from './view';

export const training: OutputKind<TrainingPayload, typeof kernel> = {
  name: 'training',
  mimes: [TRAINING_MIME],
  rendered: true,
  check: checkTrainingPayload,
  text: historyText,
  stored: settleTrainingPayload,
  kernel,
  view,
};
