// The extension's identifiers (commands, notebook type, controller, walkthrough),
// shared by the commands, the notebook glue, the manifest test and
// whoever drives the extension through `vscode.commands.executeCommand`.
// No `vscode` import.

export const CATEGORY = 'Autoencoder Notebooks';

export const COMMANDS = {
  newNotebook: 'autoencoderNotebooks.newNotebook',
  newNotebookFromSample: 'autoencoderNotebooks.newNotebookFromSample',
  restartKernel: 'autoencoderNotebooks.restartKernel',
  interruptKernel: 'autoencoderNotebooks.interruptKernel',
  selectBackend: 'autoencoderNotebooks.selectBackend',
  downloadDatasets: 'autoencoderNotebooks.downloadDatasets',
  exportHtml: 'autoencoderNotebooks.exportHtml',
  openReportInBrowser: 'autoencoderNotebooks.openReportInBrowser',
  runHeadless: 'autoencoderNotebooks.runHeadless',
  showLog: 'autoencoderNotebooks.showLog',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** The notebook type of `.aenb` files (package.json `contributes.notebooks[].type`). */
export const NOTEBOOK_TYPE = 'autoencoder-notebook';
/** Our notebook controller's id. */
export const CONTROLLER_ID = 'autoencoder-notebooks.kernel';
export const WALKTHROUGH_ID = 'autoencoderNotebooks.gettingStarted';
