/**
 * The data-set layer: MNIST and Fashion-MNIST from a configured folder, the
 * cache, official copies on disk, or a verified download. No `vscode` here.
 */
export { classNamesOf, datasets, FASHION_MNIST_CLASSES, loadData, type KerasDataset } from './keras';
export {
  ensureDownloaded, loadRaw, locate,
  type DatasetLocation, type FileLocation, type LoadOptions, type RawDataset, type RawSplit, type SourceKind,
} from './load';
export { downloadVerified, type DownloadOptions, type DownloadProgress, type DownloadResult, type DownloadTarget } from './download';
export { DatasetError, type DatasetErrorCode } from './errors';
export {
  encodeIdx, IdxError, isGzip, parseIdx, readIdxFile,
  type IdxArray, type IdxDtype, type IdxExpectation, type IdxTypedArray,
} from './idx';
export {
  DATASET_NAMES, defaultCacheDir, defaultSystemDirs, FILE_ROLES, MANIFESTS,
  type DatasetManifest, type DatasetName, type FileRole, type FileSpec,
} from './manifest';
