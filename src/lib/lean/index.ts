/**
 * The lean training step on the WebAssembly backend: see step.ts for what it
 * does, types.ts for the per-layer interface, layers/ for the layer types.
 */
export { buildLeanStep, createLeanStep } from './step';
export type { LeanBuild, LeanStep, LeanStepArgs, LeanStrategy } from './step';
export { decideLeanStep, genericPathNote, leanOff, leanTrainingEnabled, setLeanTraining } from './decide';
export type { LeanDecision } from './decide';
export { fitDecision, installLeanLayersFit, leanLayersFitInstalled, READS_ONLY_LOGS, readsOnlyLogs } from './fit';
export { chainOf, leanLossOf } from './plan';
export type { LeanLoss } from './plan';
export { wasmInternals } from './heap';
export type { Buf, WasmBackendInternals } from './heap';
export { LAYER_MODULES, layerModule, supportedLayerClasses } from './layers';
export type { ActivationKind, BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, Param, StepRuntime } from './types';
