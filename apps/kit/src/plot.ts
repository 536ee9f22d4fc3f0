/**
 * Training pictures: loss/accuracy curves and 2-D decision boundaries, written as PNG or SVG.
 *
 * Charts are declared in `vega-lite` (a grammar of graphics: data, marks and encodings, with axes,
 * legends and titles done well by default) and rendered to SVG by `vega` headlessly (renderer
 * 'none', no canvas or browser). The SVG becomes a PNG through `@resvg/resvg-js`, a Rust SVG
 * renderer whose prebuilt binary ships inside its npm package, so nothing is compiled or downloaded
 * at install. Text uses DejaVu Sans from the `dejavu-fonts-ttf` package rather than the system's
 * fonts, so the pictures look the same on every machine, even one without any fonts installed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { parse, scheme, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Plot data that cannot be drawn: mismatched lengths, an empty series, an unknown file type. */
export class PlotDataError extends Error {
  override name = 'PlotDataError';
}

/** Values at x = 1, 2, 3, … (steps and epochs count from 1), or explicit x and y of equal length. */
export type Series = ArrayLike<number> | { x: ArrayLike<number>; y: ArrayLike<number> };

export interface LinePlot {
  title?: string;
  /** X axis title (default `step`). */
  x?: string;
  /** Y axis title (default `value`). */
  y?: string;
  /** Named curves, drawn in this order, e.g. `{ train: losses, val: { x: steps, y: valLosses } }`. */
  series: Record<string, Series>;
  yScale?: 'linear' | 'log';
  /** Size of the plotting area in CSS pixels (default 560 × 320); axes, title and legend add to it. */
  width?: number;
  height?: number;
}

export interface DecisionBoundaryPlot {
  title?: string;
  /**
   * The model's predicted class on a grid: `classes[j * xs.length + i]` is the class at
   * (`xs[i]`, `ys[j]`); `xs` and `ys` strictly increase.
   */
  grid: { xs: ArrayLike<number>; ys: ArrayLike<number>; classes: ArrayLike<number> };
  /** The data points, colored by their true class. */
  points: { x: ArrayLike<number>; y: ArrayLike<number>; label: ArrayLike<number> };
  /** Names shown in the legend for classes 0, 1, … (default: the numbers). */
  classNames?: readonly string[];
  x?: string;
  y?: string;
  width?: number;
  height?: number;
}

export interface WriteOptions {
  /** PNG pixels per CSS pixel (default 2, sharp on high-density screens). */
  scale?: number;
}

const fontFamily = 'DejaVu Sans';
const require = createRequire(import.meta.url);
const fontFiles = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) =>
  require.resolve(`dejavu-fonts-ttf/ttf/${file}`),
);
const chartConfig = {
  font: fontFamily,
  background: 'white',
  padding: 12,
  title: { fontSize: 15, anchor: 'start' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  view: { stroke: '#bbbbbb' },
} as const;

/** Writes loss/accuracy curves to `path` (`.png` or `.svg`). */
export async function writeLinePlot(path: string, plot: LinePlot, options: WriteOptions = {}): Promise<void> {
  await writeChart(path, linePlotSpec(plot), options);
}

/** Writes a decision-boundary picture to `path` (`.png` or `.svg`). */
export async function writeDecisionBoundary(
  path: string,
  plot: DecisionBoundaryPlot,
  options: WriteOptions = {},
): Promise<void> {
  await writeChart(path, decisionBoundarySpec(plot), options);
}

/** Renders any vega-lite chart to `path`, as PNG or SVG according to the extension. */
export async function writeChart(
  path: string,
  spec: TopLevelSpec,
  options: WriteOptions = {},
): Promise<void> {
  const extension = extname(path).toLowerCase();
  if (extension !== '.png' && extension !== '.svg') {
    throw new PlotDataError(`writeChart: ${path}: expected a .png or .svg file name`);
  }
  const svg = await renderSvg(spec);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, extension === '.svg' ? svg : svgToPng(svg, options.scale));
}

/** Renders a vega-lite chart to an SVG document, headlessly. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG document to PNG bytes at `scale` pixels per CSS pixel. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: false, fontFiles, defaultFontFamily: fontFamily, sansSerifFamily: fontFamily },
  });
  return resvg.render().asPng();
}

export function linePlotSpec(plot: LinePlot): TopLevelSpec {
  const names = Object.keys(plot.series);
  if (names.length === 0) throw new PlotDataError('linePlot: no series to draw');
  const values: { x: number; y: number; series: string; marker: boolean }[] = [];
  for (const name of names) {
    const { x, y } = seriesPoints(name, plot.series[name]);
    // Short series (per-epoch validation, say) get a marker on each point, long ones a bare line.
    const marker = y.length <= 60;
    for (let i = 0; i < y.length; i++) {
      // A diverged loss (NaN, ±Infinity) would stretch or break the axis: leave a gap instead.
      if (Number.isFinite(x[i]) && Number.isFinite(y[i]))
        values.push({ x: x[i], y: y[i], series: name, marker });
    }
  }
  const encoding = {
    x: { field: 'x', type: 'quantitative', title: plot.x ?? 'step', scale: { zero: false, nice: false } },
    y: {
      field: 'y',
      type: 'quantitative',
      title: plot.y ?? 'value',
      scale: plot.yScale === 'log' ? ({ type: 'log' } as const) : { zero: false },
    },
    color: {
      field: 'series',
      type: 'nominal',
      scale: { domain: names },
      legend: names.length > 1 ? { title: null, symbolType: 'stroke', symbolStrokeWidth: 2.5 } : null,
    },
  } as const;
  return {
    title: plot.title,
    width: plot.width ?? 560,
    height: plot.height ?? 320,
    config: chartConfig,
    data: { values },
    encoding,
    layer: [
      { mark: { type: 'line', strokeWidth: 2, clip: true } },
      {
        transform: [{ filter: 'datum.marker' }],
        mark: {
          type: 'point',
          filled: true,
          size: 45,
          stroke: 'white',
          strokeWidth: 1,
          opacity: 1,
          clip: true,
        },
      },
    ],
  };
}

export function decisionBoundarySpec(plot: DecisionBoundaryPlot): TopLevelSpec {
  const { xs, ys, classes } = plot.grid;
  const { x, y, label } = plot.points;
  if (xs.length === 0 || ys.length === 0 || classes.length !== xs.length * ys.length) {
    throw new PlotDataError(
      `decisionBoundary: grid.classes has length ${classes.length}, expected xs.length × ys.length = ` +
        `${xs.length} × ${ys.length} = ${xs.length * ys.length} (and both non-empty)`,
    );
  }
  if (x.length !== y.length || x.length !== label.length) {
    throw new PlotDataError(
      `decisionBoundary: points.x, points.y and points.label have lengths ${x.length}, ${y.length}, ` +
        `${label.length}; expected equal lengths`,
    );
  }
  const xEdges = cellEdges('grid.xs', xs);
  const yEdges = cellEdges('grid.ys', ys);
  const name = (c: number) => plot.classNames?.[c] ?? String(c);
  const seen = new Set<number>([...Array.from(classes), ...Array.from(label)]);
  const classIds = plot.classNames ? plot.classNames.map((_, c) => c) : [...seen].sort((a, b) => a - b);
  const domain = classIds.map(name);
  const strong = classIds.map((_, i) => palette[i % palette.length]);
  const light = strong.map((color) => mixWithWhite(color, 0.6));

  const cells: { x0: number; x1: number; y0: number; y1: number; label: string }[] = [];
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++) {
      cells.push({
        x0: xEdges[i],
        x1: xEdges[i + 1],
        y0: yEdges[j],
        y1: yEdges[j + 1],
        label: name(classes[j * xs.length + i]),
      });
    }
  }
  const points = Array.from(x, (xi, i) => ({ x: xi, y: y[i], label: name(label[i]) }));
  const xScale = { domain: [xEdges[0], xEdges[xs.length]], zero: false, nice: false };
  const yScale = { domain: [yEdges[0], yEdges[ys.length]], zero: false, nice: false };
  const xTitle = plot.x ?? 'x';
  const yTitle = plot.y ?? 'y';
  const gridColor = {
    field: 'label',
    type: 'nominal',
    scale: { domain, range: light },
    legend: null,
  } as const;
  return {
    title: plot.title,
    width: plot.width ?? 420,
    height: plot.height ?? 420,
    config: chartConfig,
    layer: [
      {
        data: { values: cells },
        // Stroking each cell in its own color hides the hairline seams anti-aliasing leaves between cells.
        mark: { type: 'rect', strokeWidth: 0.6, clip: true },
        encoding: {
          x: { field: 'x0', type: 'quantitative', scale: xScale, title: xTitle },
          x2: { field: 'x1' },
          y: { field: 'y0', type: 'quantitative', scale: yScale, title: yTitle },
          y2: { field: 'y1' },
          fill: gridColor,
          stroke: gridColor,
        },
      },
      {
        data: { values: points },
        mark: {
          type: 'point',
          filled: true,
          size: 30,
          opacity: 1,
          stroke: 'white',
          strokeWidth: 0.7,
          clip: true,
        },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale, title: xTitle },
          y: { field: 'y', type: 'quantitative', scale: yScale, title: yTitle },
          color: { field: 'label', type: 'nominal', scale: { domain, range: strong }, title: 'class' },
        },
      },
    ],
    resolve: { scale: { color: 'independent', fill: 'independent', stroke: 'independent' } },
  };
}

const palette: readonly string[] = scheme('tableau10') as string[];

function seriesPoints(name: string, series: Series): { x: ArrayLike<number>; y: ArrayLike<number> } {
  if ('y' in series) {
    if (series.x.length !== series.y.length) {
      throw new PlotDataError(
        `linePlot: series "${name}" has ${series.x.length} x values and ${series.y.length} y values`,
      );
    }
    return series;
  }
  return { x: Array.from({ length: series.length }, (_, i) => i + 1), y: series };
}

/** Cell boundaries halfway between neighbouring grid coordinates, extended by half a cell at the ends. */
function cellEdges(what: string, values: ArrayLike<number>): number[] {
  const n = values.length;
  for (let i = 1; i < n; i++) {
    if (!(values[i] > values[i - 1])) {
      throw new PlotDataError(`decisionBoundary: ${what} must strictly increase (index ${i})`);
    }
  }
  if (n === 1) return [values[0] - 0.5, values[0] + 0.5];
  const edges = [values[0] - (values[1] - values[0]) / 2];
  for (let i = 1; i < n; i++) edges.push((values[i - 1] + values[i]) / 2);
  edges.push(values[n - 1] + (values[n - 1] - values[n - 2]) / 2);
  return edges;
}

function mixWithWhite(hex: string, amount: number): string {
  const channel = (offset: number) => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16);
    return Math.round(value + (255 - value) * amount)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(1)}${channel(3)}${channel(5)}`;
}
