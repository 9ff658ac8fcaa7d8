// The content of a new empty notebook. No `vscode` import.
import { AenbNotebook, createCodeCell, createMarkdownCell, createNotebook } from '../common/aenb';

export const NEW_NOTEBOOK_MARKDOWN = `# Autoencoder notebook

Code cells are TypeScript (or JavaScript). They run in this notebook's kernel with TensorFlow.js
and the extension's library in scope: \`tf\`, \`datasets\`, \`Autoencoder\`, \`StackedAutoencoder\`,
\`addNoise\` and \`show\` (live training curves, image grids, model summaries).
Variables declared in one cell are visible in the next.

Run a cell with **Shift+Enter**, or everything with **Run All**. The first run of the next cell
loads MNIST: from a local copy when one is found, else it downloads it (about 11 MB) once.
`;

export const NEW_NOTEBOOK_CODE = `// MNIST: 60,000 training and 10,000 test images of handwritten digits, 28x28 pixels, 0-255.
const [[xTrain, yTrain], [xTest, yTest]] = await datasets.mnist.loadData();
const x = xTrain.div(255);
const xVal = xTest.div(255);
const labels = Array.from(yTrain.slice(0, 8).dataSync());
show.images([{ title: 'Training images', images: x.slice(0, 8), captions: labels }]);
x.shape
`;

/** A markdown cell that says how notebooks work and a code cell that loads a data set. */
export function newNotebookTemplate(): AenbNotebook {
  return createNotebook([createMarkdownCell(NEW_NOTEBOOK_MARKDOWN.trimEnd()), createCodeCell(NEW_NOTEBOOK_CODE.trimEnd())]);
}
