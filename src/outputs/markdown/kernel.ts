// Markdown in the kernel: `show.markdown(md)`.
import { MIME } from '../../common/aenb';
import type { KernelPart } from '../kind';

export const kernel = {
  show: {
    /** Shows Markdown under the cell. */
    markdown: (md: string) => ({ items: [{ mime: MIME.markdown, data: String(md) }] }),
  },
} satisfies KernelPart;
