// Small image canvases for the latent-space views: one uint8 image drawn at
// its own resolution and scaled up by CSS (`image-rendering: pixelated`).
import { imageToRgba, type Colormap } from '../../common/colormap';
import type { ImageShape } from './contract';

export function imageCanvas(shape: ImageShape, scale: number, label: string): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.className = 'aenb-pixels';
  c.width = shape.width;
  c.height = shape.height;
  c.style.width = `${shape.width * scale}px`;
  c.style.height = `${shape.height * scale}px`;
  c.setAttribute('role', 'img');
  c.setAttribute('aria-label', label);
  return c;
}

export function drawImage(canvas: HTMLCanvasElement, shape: ImageShape, pixels: Uint8Array, colormap: Colormap): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const rgba = imageToRgba(shape.width, shape.height, pixels, shape.channels, colormap);
  ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, shape.width, shape.height), 0, 0);
}

export function clearImage(canvas: HTMLCanvasElement): void {
  canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
}

/** Categorical colours for up to 20 classes (Tableau 10, then lighter partners), readable on light and dark backgrounds. */
export const CLASS_COLORS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#a0cbe8', '#ffbe7d', '#ff9d9a', '#86bcb6', '#8cd17d', '#f1ce63', '#d4a6c8', '#fabfd2', '#d7b5a6', '#79706e',
];
