/**
 * The ML core: everything a notebook cell, the headless runner or a test needs
 * to reproduce the seed notebooks, with no VS Code in sight.
 */
export * as tf from '@tensorflow/tfjs';
export { initBackend, activeBackend, findWasmDir, isBackendChoice, BACKEND_CHOICES, BackendError } from './backend';
export type { BackendChoice, BackendInfo, BackendName, BackendOptions } from './backend';
export { installWasmMatMulFix, wasmMatMulFixInstalled } from './wasm-kernels';
export { TransposedDense, LeakyReLUActivation, activation, KERAS_LEAKY_RELU_ALPHA } from './layers';
export type { ActivationSpec, TransposedDenseArgs } from './layers';
export { Autoencoder, StackedAutoencoder, AutoencoderModel } from './models';
export type { AutoencoderArgs, StackedAutoencoderArgs, CompileArgs } from './models';
export { loadModel } from './model-io';
export { addNoise } from './noise';
export type { NoiseOptions } from './noise';
export { History, train, addTrainingObserver, stopAllTraining, trainingInProgress } from './training';
export type { FitArgs, FitCallbacks, TrainingProgress, EpochLogs, TrainingEvent, TrainingRun, ResumeState } from './training';
export { callbacks, loadCheckpoint, CheckpointCallback } from './callbacks';
export type { ModelCheckpointArgs, BackupAndRestoreArgs } from './callbacks';
export { CheckpointError, readCheckpoint, listCheckpoints } from './checkpoint';
export { computeOptions, computeSettings, computeStatus, describeCompute, setComputeOptions } from './compute';
export type { ComputeOptions, ComputeSettings } from './compute';
export { describeModel, summaryTable } from './summary';
export type { ModelSummary, LayerSummary } from './summary';
export { binaryCrossentropy, meanSquaredError, resolveLoss, resolveOptimizer } from './losses';
