// Model summary: the table Keras prints (layer, type, output shape, parameters)
// with a bar showing each layer's share of the parameters, tied weights marked
// (and counted once, at their owner), and totals.
import { formatCount } from '../../common/formatting';
import { h, uniqueId } from '../../../renderers/dom';
import type { OutputView, ViewPart } from '../kind';
import { type SummaryPayload, formatParamBytes, formatShape } from './contract';

export class SummaryView implements OutputView<SummaryPayload> {
  readonly root: HTMLElement;

  constructor() {
    this.root = h('section', { class: 'aenb-root aenb-summary' });
  }

  update(p: SummaryPayload): void {
    const captionId = uniqueId('summary');
    this.root.setAttribute('aria-labelledby', captionId);
    const own = (l: SummaryPayload['layers'][number]) => l.params - (l.shared ?? []).reduce((s, w) => s + w.params, 0);
    const maxParams = Math.max(1, ...p.layers.map((l) => l.params));
    const anyShared = p.layers.some((l) => (l.shared ?? []).length > 0);

    const thead = h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Layer (type)'),
        h('th', { scope: 'col' }, 'Output shape'),
        h('th', { scope: 'col', class: 'aenb-num' }, 'Param #'),
        h('th', { scope: 'col', class: 'aenb-bar-col' }, h('span', { class: 'aenb-sr-only' }, 'Share of parameters')),
      ),
    );
    const tbody = h('tbody');
    p.layers.forEach((l) => {
      const depth = l.depth ?? 0;
      const shared = l.shared ?? [];
      const nameCell = h(
        'th',
        { scope: 'row', class: 'aenb-layer', style: depth ? `padding-left: ${0.6 + depth * 1.2}em` : undefined },
        h('span', { class: 'aenb-layer-name' }, l.name),
        ' ',
        h('span', { class: 'aenb-layer-type' }, `(${l.type})`),
        l.trainable ? null : h('span', { class: 'aenb-tag', title: 'Weights are frozen' }, 'frozen'),
      );
      for (const w of shared) {
        nameCell.append(
          h(
            'span',
            { class: 'aenb-tied', title: `${formatCount(w.params)} parameters of ${w.owner}.${w.weight} are reused here and counted once, in ${w.owner}` },
            h('span', { 'aria-hidden': 'true' }, '⇄ '),
            `tied: ${w.weight}${w.transposed ? 'ᵀ' : ''} of ${w.owner}`,
          ),
        );
      }
      const ownParams = own(l);
      const paramCell = h('td', { class: 'aenb-num' }, formatCount(l.params));
      if (shared.length) {
        paramCell.append(h('span', { class: 'aenb-num-note' }, `${formatCount(ownParams)} own`));
      }
      const ownPct = (ownParams / maxParams) * 100;
      const sharedPct = ((l.params - ownParams) / maxParams) * 100;
      const bar = h(
        'td',
        { class: 'aenb-bar-col', 'aria-hidden': 'true' },
        h(
          'span',
          { class: 'aenb-param-bar' },
          h('span', { class: 'aenb-param-own', style: `width: ${ownPct}%` }),
          sharedPct > 0 ? h('span', { class: 'aenb-param-shared', style: `width: ${sharedPct}%` }) : null,
        ),
      );
      const tr = h('tr', { class: depth ? 'aenb-nested' : undefined, 'data-layer': l.name }, nameCell, h('td', { class: 'aenb-shape' }, formatShape(l.outputShape)), paramCell, bar);
      if (shared.length) tr.classList.add('aenb-has-tied');
      tbody.append(tr);
    });

    const t = p.totals;
    const totalRow = (label: string, n: number, cls: string) =>
      h('tr', { class: cls }, h('th', { scope: 'row', colspan: 2 }, label), h('td', { class: 'aenb-num' }, formatCount(n)), h('td', { class: 'aenb-muted aenb-bytes' }, formatParamBytes(n)));
    const tfoot = h(
      'tfoot',
      {},
      totalRow('Total params', t.total, 'aenb-total'),
      totalRow('Trainable params', t.trainable, 'aenb-trainable'),
      totalRow('Non-trainable params', t.nonTrainable, 'aenb-nontrainable'),
    );
    const caption = h(
      'caption',
      { id: captionId },
      h('span', { class: 'aenb-title' }, `Model: ${p.modelName}`),
      p.modelType ? h('span', { class: 'aenb-muted' }, ` (${p.modelType})`) : null,
      p.inputShape ? h('span', { class: 'aenb-muted' }, ` · input ${formatShape(p.inputShape)}`) : null,
    );
    const table = h('table', { class: 'aenb-table' }, caption, thead, tbody, tfoot);
    const notes: HTMLElement[] = [];
    if (anyShared || t.shared > 0) {
      notes.push(
        h(
          'p',
          { class: 'aenb-muted aenb-shared-note' },
          h('span', { class: 'aenb-tied' }, h('span', { 'aria-hidden': 'true' }, '⇄ '), 'tied'),
          ` weights (${formatCount(t.shared)} parameters) are used by more than one layer and counted once in the totals.`,
        ),
      );
    }
    this.root.replaceChildren(h('div', { class: 'aenb-table-scroll' }, table), ...notes);
  }

  dispose(): void {}

  refreshTheme(): void {}
}

export const view: ViewPart<SummaryPayload> = { create: () => new SummaryView() };
