// VS Code's notebook renderer API (the `vscode-notebook-renderer` types).
// The HTML report starts the renderer with a smaller context (no messaging,
// no state): every member used beyond `workspace` is optional in use here.
export type { ActivationFunction, OutputItem, RendererApi, RendererContext } from 'vscode-notebook-renderer';
