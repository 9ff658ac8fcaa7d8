// Plain images (image/png, jpeg, gif, webp, svg+xml): VS Code draws them
// itself; the report inlines them as data: URLs (an image grid's PNG
// fallback among them, when the grid is not drawn by the renderer).
import type { OutputKind } from '../kind';
import { report } from './report';

export const image: OutputKind<Uint8Array, undefined> = {
  name: 'image',
  mimes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'],
  rendered: false,
  report,
};
