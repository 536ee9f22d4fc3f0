// The page's charts: declared in vega-lite, compiled once, rendered by a vega View to a canvas;
// new rows replace a chart's `rows` data set.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Chart {
  show(rows: object[]): void;
  /** The rows shown last (the browser test reads them). */
  readonly rows: readonly object[];
  /** Stops drawing (the chart's element is going away). */
  remove(): void;
}

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  data: { name: 'rows' },
  autosize: { type: 'fit-x', contains: 'padding' },
  config: { view: { stroke: null }, axis: { labelFontSize: 10, titleFontSize: 11 } },
} as const;

const splitColor = {
  field: 'split',
  type: 'nominal',
  title: null,
  scale: { domain: ['train', 'held-out', 'train batches'], range: ['#1f77b4', '#ff7f0e', '#bbbbbb'] },
  legend: { orient: 'top', direction: 'horizontal' },
} as const;

function curve(y: string, title: string, scale: object): TopLevelSpec {
  return {
    ...base,
    width: 'container',
    height: 150,
    mark: { type: 'line', interpolate: 'monotone' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: y, type: 'quantitative', title, scale },
      color: splitColor,
    },
  } as TopLevelSpec;
}

export const lossSpec = curve('loss', 'loss', { type: 'log' });
export const accuracySpec = curve('accuracy', 'accuracy', { domain: [0, 1] });

/** One bar per Linear layer: its weight norm or its gradient norm. */
export const normSpec = (title: string): TopLevelSpec =>
  ({
    ...base,
    width: 'container',
    height: 80,
    title: { text: title, fontSize: 11, anchor: 'start' },
    mark: { type: 'bar', color: title.startsWith('gradient') ? '#e45756' : '#4c78a8' },
    encoding: {
      y: { field: 'layer', type: 'nominal', title: 'layer', sort: null },
      x: { field: 'value', type: 'quantitative', title: null },
    },
  }) as TopLevelSpec;

/** The weights of one layer, binned in the worker. */
export const histogramSpec = (title: string): TopLevelSpec =>
  ({
    ...base,
    autosize: { type: 'pad' },
    width: 120,
    height: 70,
    title: { text: title, fontSize: 11 },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'low', type: 'quantitative', title: 'weight', bin: { binned: true } },
      x2: { field: 'high' },
      y: { field: 'count', type: 'quantitative', title: null },
    },
  }) as TopLevelSpec;

export const probabilitySpec = {
  ...base,
  width: 'container',
  height: 150,
  mark: 'bar',
  encoding: {
    x: { field: 'digit', type: 'ordinal', title: 'digit' },
    y: { field: 'probability', type: 'quantitative', scale: { domain: [0, 1] } },
  },
} as TopLevelSpec;

/** A chart in `element`, redrawn at most every `intervalMs` (vega layout is not free). */
export function chart(element: HTMLElement, spec: TopLevelSpec, intervalMs = 200): Chart {
  const view = new View(parse(compile(spec).spec), { renderer: 'canvas', container: element, hover: false });
  let rows: object[] = [];
  let pending = false;
  let last = 0;
  // Vega reads a container's width only on window resizes: a chart created hidden (or a panel
  // that changed size) gets its width here at each draw.
  const fitsContainer = (spec as { width?: unknown }).width === 'container';
  const draw = () => {
    pending = false;
    if (!element.isConnected) return;
    last = performance.now();
    if (fitsContainer && element.clientWidth > 0) view.width(element.clientWidth);
    void view.data('rows', rows).resize().runAsync();
  };
  void view.runAsync();
  return {
    show(next) {
      rows = next;
      if (pending) return;
      pending = true;
      setTimeout(draw, Math.max(0, last + intervalMs - performance.now()));
    },
    get rows() {
      return rows;
    },
    remove() {
      view.finalize();
    },
  };
}
