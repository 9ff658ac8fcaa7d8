// TypeScript's display parts and JSDoc tags as Markdown and plain text.
import ts from 'typescript';

/** Display parts as text, with `{@link X}` shown as X. */
export function partsText(parts: readonly ts.SymbolDisplayPart[] | undefined, code = false): string {
  if (!parts) return '';
  let out = '';
  for (const p of parts) {
    if (p.kind === 'link') continue; // "{@link " and "}"
    if (p.kind === 'linkName') out += code ? p.text : `\`${p.text}\``;
    else out += p.text;
  }
  return out;
}

/**
 * Removes what the notebook's plumbing adds to a symbol's display: the
 * "(alias)" prefix and the trailing "import x" line of a name that comes from
 * a cell above or from the kernel's globals.
 */
export function stripAlias(parts: readonly ts.SymbolDisplayPart[]): ts.SymbolDisplayPart[] {
  let p = [...parts];
  if (p.length >= 4 && p[0].text === '(' && p[1].text === 'alias' && p[2].text === ')' && p[3].kind === 'space') {
    p = p.slice(4);
    for (let i = p.length - 2; i >= 0; i--) {
      if (p[i].kind === 'lineBreak' && p[i + 1].kind === 'keyword' && p[i + 1].text === 'import') {
        p = p.slice(0, i);
        break;
      }
    }
  }
  return p;
}

function tagMarkdown(tag: ts.JSDocTagInfo): string {
  const parts = tag.text ?? [];
  if ((tag.name === 'param' || tag.name === 'template') && parts.length) {
    const nameIndex = parts.findIndex((p) => p.kind === 'parameterName' || p.kind === 'typeParameterName');
    if (nameIndex >= 0) {
      const rest = partsText(parts.slice(nameIndex + 1)).trim();
      return `*@${tag.name}* \`${parts[nameIndex].text}\`${rest ? ` — ${rest}` : ''}`;
    }
  }
  const text = partsText(parts).trim();
  if (tag.name === 'example') {
    return `*@example*\n${text.includes('```') ? text : '```typescript\n' + text + '\n```'}`;
  }
  return `*@${tag.name}*${text ? (text.includes('\n') ? '\n' : ' — ') + text : ''}`;
}

/** Documentation and tags as Markdown. */
export function docsMarkdown(documentation: readonly ts.SymbolDisplayPart[] | undefined, tags: readonly ts.JSDocTagInfo[] | undefined): string {
  const blocks = [partsText(documentation).trim()];
  const rendered = (tags ?? []).map(tagMarkdown).filter(Boolean);
  if (rendered.length) blocks.push(rendered.join('\n\n'));
  return blocks.filter(Boolean).join('\n\n');
}
