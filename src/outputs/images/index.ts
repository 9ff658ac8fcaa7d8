// The images kind: grids of small images, drawn by our renderer (see
// ./contract.ts for the payload; ./png.ts makes the PNG fallback).
import type { OutputKind } from '../kind';
import { checkImagesPayload, IMAGES_MIME, imagesText, type ImagesPayload } from './contract';
import { kernel } from './kernel';
import { view } from './view';

export const images: OutputKind<ImagesPayload, typeof kernel> = {
  name: 'images',
  mimes: [IMAGES_MIME],
  rendered: true,
  check: checkImagesPayload,
  text: imagesText,
  kernel,
  view,
};
