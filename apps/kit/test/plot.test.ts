import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decisionBoundarySpec,
  linePlotSpec,
  PlotDataError,
  renderSvg,
  writeDecisionBoundary,
  writeLinePlot,
} from '@tsgrad/app-kit';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'app-kit-plot-'));

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.toString('ascii', 12, 16)).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const match = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  expect(match).not.toBeNull();
  return { width: Number(match![1]), height: Number(match![2]) };
}

const losses = Array.from({ length: 200 }, (_, i) => 2 * Math.exp(-i / 50) + 0.1);
const curves = {
  title: 'Loss',
  x: 'step',
  y: 'cross-entropy',
  series: { train: losses, val: { x: [50, 100, 150, 200], y: [0.8, 0.4, 0.25, 0.2] } },
};

function spiralsLike() {
  const xs = Array.from({ length: 30 }, (_, i) => -1 + (2 * i) / 29);
  const ys = xs.slice();
  const classes = ys.flatMap((y) => xs.map((x) => (x * y > 0 ? 1 : x > 0 ? 2 : 0)));
  const x = [-0.5, 0.5, 0.5, -0.5];
  const y = [-0.5, 0.5, -0.5, 0.5];
  return { grid: { xs, ys, classes }, points: { x, y, label: [1, 1, 2, 0] } };
}

describe('writeLinePlot', () => {
  it('writes a PNG whose size is the SVG size times the scale', async () => {
    const path = join(dir, 'loss.png');
    await writeLinePlot(path, curves);
    const svg = svgSize(await renderSvg(linePlotSpec(curves)));
    const png = pngSize(readFileSync(path));
    expect(png.width).toBe(Math.round(svg.width * 2));
    expect(png.height).toBe(Math.round(svg.height * 2));
    expect(svg.width).toBeGreaterThan(560);
  });

  it('writes an SVG with the title, the axis titles and the series names', async () => {
    const path = join(dir, 'loss.svg');
    await writeLinePlot(path, curves);
    const svg = readFileSync(path, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['Loss', 'step', 'cross-entropy', 'train', 'val']) expect(svg).toContain(`>${text}<`);
  });

  it('honours scale and a log y axis', async () => {
    const path = join(dir, 'loss-log.png');
    const plot = { ...curves, yScale: 'log' as const, width: 300, height: 200 };
    await writeLinePlot(path, plot, { scale: 1 });
    const svg = svgSize(await renderSvg(linePlotSpec(plot)));
    expect(pngSize(readFileSync(path))).toEqual({
      width: Math.round(svg.width),
      height: Math.round(svg.height),
    });
  });

  it('leaves non-finite values out', () => {
    const spec = linePlotSpec({ series: { train: [1, Number.NaN, 0.5, Number.POSITIVE_INFINITY, 0.25] } });
    const values = (spec as { data: { values: { x: number; y: number }[] } }).data.values;
    expect(values.map((v) => [v.x, v.y])).toEqual([
      [1, 1],
      [3, 0.5],
      [5, 0.25],
    ]);
  });

  it('rejects mismatched series, no series and unknown file types', async () => {
    expect(() => linePlotSpec({ series: { a: { x: [1, 2], y: [1] } } })).toThrow(PlotDataError);
    expect(() => linePlotSpec({ series: {} })).toThrow(/no series/);
    await expect(writeLinePlot(join(dir, 'loss.jpg'), curves)).rejects.toThrow(/\.png or \.svg/);
  });
});

describe('writeDecisionBoundary', () => {
  it('writes a PNG and an SVG with the grid cells and the points', async () => {
    const plot = { title: 'Boundary', ...spiralsLike(), classNames: ['a', 'b', 'c'] };
    await writeDecisionBoundary(join(dir, 'boundary.png'), plot);
    await writeDecisionBoundary(join(dir, 'boundary.svg'), plot);
    const svg = readFileSync(join(dir, 'boundary.svg'), 'utf8');
    const size = svgSize(svg);
    expect(pngSize(readFileSync(join(dir, 'boundary.png')))).toEqual({
      width: Math.round(size.width * 2),
      height: Math.round(size.height * 2),
    });
    expect(svg.match(/<path[^>]*d="M[^"]*"/g)?.length ?? 0).toBeGreaterThanOrEqual(30 * 30);
    for (const name of ['a', 'b', 'c', 'Boundary']) expect(svg).toContain(`>${name}<`);
  });

  it('lays cells edge to edge, half a step beyond the outer grid points', () => {
    const spec = decisionBoundarySpec({
      grid: { xs: [0, 1, 2], ys: [10, 20], classes: [0, 1, 1, 0, 0, 1] },
      points: { x: [], y: [], label: [] },
    }) as { layer: { data: { values: Record<string, number | string>[] } }[] };
    const cells = spec.layer[0].data.values;
    expect(cells).toHaveLength(6);
    expect(cells[0]).toEqual({ x0: -0.5, x1: 0.5, y0: 5, y1: 15, label: '0' });
    expect(cells[5]).toEqual({ x0: 1.5, x1: 2.5, y0: 15, y1: 25, label: '1' });
  });

  it('names the shapes when the grid or the points do not fit', () => {
    const { grid, points } = spiralsLike();
    expect(() => decisionBoundarySpec({ grid: { ...grid, classes: [1, 2, 3] }, points })).toThrow(
      /length 3, expected xs.length × ys.length = 30 × 30 = 900/,
    );
    expect(() => decisionBoundarySpec({ grid, points: { ...points, label: [0] } })).toThrow(
      /lengths 4, 4, 1/,
    );
    expect(() => decisionBoundarySpec({ grid: { ...grid, xs: grid.xs.slice().reverse() }, points })).toThrow(
      /strictly increase/,
    );
  });
});
