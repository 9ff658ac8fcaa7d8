// Markdown in the kernel: `show.markdown(md)`.
import { MIME } from '../../common/aenb';
import type { KernelPart } from '../kind';

export const kernel: KernelPart = {
  show: { markdown: (md: string) => ({ items: [{ mime: MIME.markdown, data: String(md) }] }) },
};
