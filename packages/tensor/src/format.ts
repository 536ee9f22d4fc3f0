import { checkDType, type DType, type TypedArray } from './dtype.js';
import { describe, ValueError } from './errors.js';
import { checkShape, sizeOf } from './shape.js';

/** Print settings, named and defaulted like NumPy's `set_printoptions` (precision like PyTorch). */
export interface FormatOptions {
  /** Most fractional digits a float shows (fewer when every shown value needs fewer). */
  readonly precision?: number;
  /** Arrays with more elements than this are abbreviated with `...`. */
  readonly threshold?: number;
  /** How many items an abbreviated axis shows at each end. */
  readonly edgeitems?: number;
  /** Lines are wrapped to about this many characters. */
  readonly linewidth?: number;
}

const DEFAULTS: Required<FormatOptions> = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 75 };
const PREFIX = 'NDArray(';
/** Marks the abbreviated middle of an axis in a list of shown indices. */
const GAP = -1;

/**
 * The text of an array, laid out like NumPy's `repr` with the prefix `NDArray(` and a trailer
 * that always names the shape and dtype. `data` holds the elements in row-major order.
 *
 *     NDArray([[ 1.50, -2.00],
 *              [ 3.25,   nan]], shape=[2,2], dtype=float32)
 *     NDArray(3.5, shape=[], dtype=float32)
 *     NDArray([], shape=[0,3], dtype=float32)
 *
 * Floats share one format per array (NumPy's `floatmode='maxprec_equal'`): fixed notation
 * with as many fractional digits as the most demanding shown value needs, at most
 * `precision` (`1.` when all are integers), or scientific notation (`1.2346e+10`) for every
 * element when a nonzero magnitude is < 1e-4 or ≥ 1e8 (1e6 for float32). Elements are
 * right-aligned to a common width; rows wrap at `linewidth` under the first element; the
 * trailer moves to its own line when it does not fit. Arrays with more than `threshold`
 * elements show `edgeitems` items at each end of every longer axis, `...` between them.
 */
export function formatNDArray(
  shape: readonly number[],
  dtype: DType,
  data: TypedArray,
  options: FormatOptions = {},
): string {
  if (typeof options !== 'object' || options === null) {
    throw new ValueError('formatNDArray', `options must be an object, got ${describe(options)}`);
  }
  checkShape('formatNDArray', shape);
  checkDType('formatNDArray', dtype);
  if (!ArrayBuffer.isView(data) || (data as TypedArray).length !== sizeOf(shape)) {
    throw new ValueError(
      'formatNDArray',
      `data must be a typed array of ${sizeOf(shape)} elements, got ${describe(data)}`,
    );
  }
  const { precision, threshold, edgeitems, linewidth } = { ...DEFAULTS, ...options };
  const trailer = `shape=[${shape.join(',')}], dtype=${dtype})`;
  if (data.length === 0) return `${PREFIX}[], ${trailer}`;

  const summarize = data.length > threshold;
  const shownAlong = (axis: number): number[] => shownIndices(shape[axis], summarize, edgeitems);
  const strides = rowMajorStrides(shape);
  const formatElement = elementFormatter(dtype, shownValues(data, shape, strides, shownAlong), precision);

  // NumPy's layout: every line of an axis starts at the hanging indent (one column right of
  // the enclosing bracket), and each nesting level leaves one column for its closing `]`.
  const render = (axis: number, start: number, indent: string, width: number): string => {
    if (axis === shape.length) return formatElement(data[start]);
    const items = shownAlong(axis).map((i) =>
      i === GAP ? '...' : render(axis + 1, start + i * strides[axis], `${indent} `, width - 1),
    );
    const axesLeft = shape.length - axis;
    const body = axesLeft === 1 ? wrapRow(items, indent, width - 1) : nestRows(items, indent, axesLeft);
    return `[${body.slice(indent.length)}]`;
  };

  // The trailing comma of the body counts against the line width, as NumPy's suffix does.
  const body = `${PREFIX}${render(0, 0, ' '.repeat(PREFIX.length + 1), linewidth - 1)},`;
  const lastLineLength = body.length - (body.lastIndexOf('\n') + 1);
  const spacer = lastLineLength + 1 + trailer.length > linewidth ? `\n${' '.repeat(PREFIX.length)}` : ' ';
  return `${body}${spacer}${trailer}`;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis];
  }
  return strides;
}

/** The indices of an axis that are printed, with GAP where `...` goes. */
function shownIndices(length: number, summarize: boolean, edgeitems: number): number[] {
  const all = Array.from({ length }, (_, i) => i);
  if (!summarize || length <= 2 * edgeitems) return all;
  return [...all.slice(0, edgeitems), GAP, ...all.slice(length - edgeitems)];
}

/** The elements that will be printed: the float format is chosen from these alone. */
function shownValues(
  data: TypedArray,
  shape: readonly number[],
  strides: readonly number[],
  shownAlong: (axis: number) => number[],
): number[] {
  const values: number[] = [];
  const visit = (axis: number, start: number): void => {
    if (axis === shape.length) {
      values.push(data[start]);
      return;
    }
    for (const i of shownAlong(axis)) if (i !== GAP) visit(axis + 1, start + i * strides[axis]);
  };
  visit(0, 0);
  return values;
}

/** A 1-D row: items separated by `, `, wrapped onto lines that start at `indent`. */
function wrapRow(items: readonly string[], indent: string, width: number): string {
  let text = '';
  let line = indent;
  items.forEach((item, k) => {
    // Wrapping a line that holds nothing but the indent would not help.
    if (line.length + item.length > width && line.length > indent.length) {
      text += `${line.trimEnd()}\n`;
      line = indent;
    }
    line += k < items.length - 1 ? `${item}, ` : item;
  });
  return text + line;
}

/** Sub-arrays one per line; blocks of rank k ≥ 2 are separated by k - 1 blank lines. */
function nestRows(items: readonly string[], indent: string, axesLeft: number): string {
  return items.map((item) => indent + item).join(`,${'\n'.repeat(axesLeft - 1)}`);
}

/** Formats one element; every output of it has the same width. */
function elementFormatter(
  dtype: DType,
  shown: readonly number[],
  precision: number,
): (value: number) => string {
  let format: (value: number) => string;
  if (dtype === 'bool') format = (value) => (value !== 0 ? 'true' : 'false');
  else if (dtype === 'int32') format = (value) => String(value);
  else format = floatFormatter(shown, dtype === 'float32', precision);
  let width = 0;
  for (const value of shown) width = Math.max(width, format(value).length);
  return (value) => format(value).padStart(width);
}

function floatFormatter(
  shown: readonly number[],
  isFloat32: boolean,
  precision: number,
): (value: number) => string {
  const magnitudes = shown.filter(Number.isFinite).map(Math.abs);
  let maxNonzero = 0;
  let minNonzero = Number.POSITIVE_INFINITY;
  for (const m of magnitudes) {
    if (m === 0) continue;
    maxNonzero = Math.max(maxNonzero, m);
    minNonzero = Math.min(minNonzero, m);
  }
  // As NumPy ≥ 2.3: float32 keeps ~7 significant digits, so its fixed range ends at 1e6.
  const scientific = maxNonzero >= (isFloat32 ? 1e6 : 1e8) || minNonzero < 1e-4;
  const round = (magnitude: number, digits: number): string => roundToDigits(magnitude, digits, scientific);
  const readBack = (text: string): number => (isFloat32 ? Math.fround(Number(text)) : Number(text));

  // The digits a value needs on its own: the fewest that read back as the same float of its
  // dtype (float32 0.1 needs 1), else `precision` minus the trailing zeros of the rounding.
  const digitsNeeded = (magnitude: number): number => {
    for (let digits = 0; digits < precision; digits++) {
      if (readBack(round(magnitude, digits)) === magnitude) return digits;
    }
    return splitNumber(round(magnitude, precision)).fraction.replace(/0+$/, '').length;
  };
  let digits = 0;
  for (const m of magnitudes) digits = Math.max(digits, digitsNeeded(m));
  let exponentWidth = 2;
  for (const m of magnitudes)
    exponentWidth = Math.max(exponentWidth, splitNumber(round(m, digits)).exponent.length - 1);

  return (value) => {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    const sign = value < 0 || Object.is(value, -0) ? '-' : '';
    const { whole, fraction, exponent } = splitNumber(round(Math.abs(value), digits));
    const mantissa = `${sign}${whole}.${fraction}`;
    if (!scientific) return mantissa;
    return `${mantissa}e${exponent[0]}${exponent.slice(1).padStart(exponentWidth, '0')}`;
  };
}

/**
 * `toFixed` / `toExponential` of a non-negative finite number, except that an exact tie
 * rounds to even as NumPy and C's printf do (JS rounds it up): 0.03125 → `0.0312`.
 */
function roundToDigits(magnitude: number, digits: number, scientific: boolean): string {
  const rounded = scientific ? magnitude.toExponential(digits) : magnitude.toFixed(digits);
  // 100 digits are exact here: a tie has a finite expansion shorter than that.
  const exact = splitNumber(scientific ? magnitude.toExponential(100) : magnitude.toFixed(100));
  const isTie = exact.fraction[digits] === '5' && /^0*$/.test(exact.fraction.slice(digits + 1));
  const kept = exact.fraction.slice(0, digits);
  const lastKept = digits > 0 ? kept[digits - 1] : exact.whole[exact.whole.length - 1];
  if (!isTie || Number(lastKept) % 2 === 1) return rounded;
  const truncated = digits > 0 ? `${exact.whole}.${kept}` : exact.whole;
  return scientific ? `${truncated}e${exact.exponent}` : truncated;
}

/** `"12.50e+3"` → whole `12`, fraction `50`, exponent `+3` (empty parts when absent). */
function splitNumber(text: string): { whole: string; fraction: string; exponent: string } {
  const [mantissa, exponent = ''] = text.split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  return { whole, fraction, exponent };
}
