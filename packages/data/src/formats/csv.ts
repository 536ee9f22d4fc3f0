// Comma-separated values (RFC 4180 quoting) with numeric feature columns and an optional
// label column. Parsed from bytes, so errors give byte offsets.
import { array, checkRecord, type NDArray, ValueError } from '@tsgrad/tensor';
import { type Fail, failIn } from '../errors.js';
import { checkBytes } from '../validate.js';

/** Options of `parseCsv` and `readCsv`. */
export interface CsvOptions {
  /** The first row names the columns (default true). */
  readonly header?: boolean;
  /** The label column: a column name (needs a header) or an index (negative counts from the end). */
  readonly labelColumn?: string | number;
  /** The one-character field separator (default ','). */
  readonly delimiter?: string;
  /** The file the bytes came from, named in errors. */
  readonly file?: string;
}

/** A parsed CSV file: numeric features, and the label column if one was named. */
export interface CsvTable {
  /** The numeric columns, float32 [rows, columns.length]. */
  readonly features: NDArray;
  /** The names of the feature columns (their indices as strings without a header). */
  readonly columns: string[];
  /** The label column as int32 [rows], when `labelColumn` was given. */
  readonly labels?: NDArray;
  /**
   * When the labels are not all integers: the class names, sorted, so that label i means
   * classes[i]. Integer labels are kept as they are and have no `classes`.
   */
  readonly classes?: string[];
}

interface Field {
  readonly text: string;
  readonly offset: number;
}

interface Row {
  readonly fields: Field[];
  readonly offset: number;
  readonly line: number;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const decoder = new TextDecoder('utf-8');

/** Splits bytes into rows of fields; blank lines are skipped. */
function tokenize(bytes: Uint8Array, delimiter: number, fail: Fail): Row[] {
  const rows: Row[] = [];
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  while (at < bytes.length) {
    const rowStart = at;
    const rowLine = line;
    const fields: Field[] = [];
    for (;;) {
      const fieldStart = at;
      let text: string;
      if (bytes[at] === QUOTE) {
        const parts: Uint8Array[] = [];
        let from = ++at;
        for (;;) {
          if (at >= bytes.length) fail(`unterminated quoted field (line ${rowLine})`, fieldStart);
          if (bytes[at] === LF) line++;
          if (bytes[at] !== QUOTE) {
            at++;
          } else if (bytes[at + 1] === QUOTE) {
            parts.push(bytes.subarray(from, at + 1));
            at += 2;
            from = at;
          } else {
            break;
          }
        }
        parts.push(bytes.subarray(from, at++));
        text = parts.map((p) => decoder.decode(p)).join('');
        const next = bytes[at];
        if (at < bytes.length && next !== delimiter && next !== LF && next !== CR) {
          fail(`unexpected character after a closing quote (line ${line})`, at);
        }
      } else {
        while (at < bytes.length && bytes[at] !== delimiter && bytes[at] !== LF && bytes[at] !== CR) at++;
        text = decoder.decode(bytes.subarray(fieldStart, at));
      }
      fields.push({ text, offset: fieldStart });
      if (at < bytes.length && bytes[at] === delimiter) {
        at++;
        continue;
      }
      break;
    }
    if (bytes[at] === CR) at++;
    if (bytes[at] === LF) at++;
    line++;
    const blank = fields.length === 1 && fields[0].text === '' && bytes[rowStart] !== QUOTE;
    if (!blank) rows.push({ fields, offset: rowStart, line: rowLine });
  }
  return rows;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = { nan: Number.NaN, inf: Infinity, infinity: Infinity };

/** A numeric field: decimal notation, or nan / inf / infinity with an optional sign. */
function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (NUMBER.test(t)) return Number(t);
  const sign = t.startsWith('-') ? -1 : 1;
  const special = SPECIAL[t.replace(/^[+-]/, '').toLowerCase()];
  return special === undefined ? undefined : sign * special;
}

/** Reads CSV bytes (or text) into float32 features and int32 labels. */
export function parseCsv(input: Uint8Array | string, options: CsvOptions = {}): CsvTable {
  if (typeof input !== 'string') checkBytes('parseCsv', input);
  checkRecord('parseCsv', 'options', options);
  const { header = true, delimiter = ',', labelColumn } = options;
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f || '"\r\n'.includes(delimiter)) {
    throw new ValueError(
      'parseCsv',
      `delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(delimiter)}`,
    );
  }
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const fail: Fail = failIn('csv', options.file);
  const rows = tokenize(bytes, delimiter.charCodeAt(0), fail);
  const names = header ? (rows.shift()?.fields.map((f) => f.text.trim()) ?? []) : undefined;
  const width = names?.length ?? rows[0]?.fields.length ?? 0;
  for (const row of rows) {
    if (row.fields.length !== width) {
      fail(
        `line ${row.line} has ${row.fields.length} fields, but the ${header ? 'header has' : 'first row has'} ${width}`,
        row.offset,
      );
    }
  }
  const columnNames = names ?? Array.from({ length: width }, (_, i) => String(i));
  const labelIndex = resolveLabelColumn(labelColumn, columnNames, header);
  const featureIndices = columnNames.map((_, i) => i).filter((i) => i !== labelIndex);
  const features = new Float32Array(rows.length * featureIndices.length);
  rows.forEach((row, r) => {
    featureIndices.forEach((c, k) => {
      const field = row.fields[c];
      const value = parseNumber(field.text);
      if (value === undefined) {
        const what = field.text.trim() === '' ? 'an empty field' : `'${field.text}' is not a number`;
        fail(`${what} in numeric column '${columnNames[c]}' (line ${row.line})`, field.offset);
      }
      features[r * featureIndices.length + k] = value;
    });
  });
  const table = {
    features: array(features, { shape: [rows.length, featureIndices.length] }),
    columns: featureIndices.map((c) => columnNames[c]),
  };
  if (labelIndex === undefined) return table;
  return { ...table, ...readLabels(rows, labelIndex, fail) };
}

function resolveLabelColumn(
  labelColumn: string | number | undefined,
  names: readonly string[],
  header: boolean,
): number | undefined {
  if (labelColumn === undefined) return undefined;
  if (typeof labelColumn === 'string') {
    if (!header)
      throw new ValueError('parseCsv', `labelColumn '${labelColumn}' is a name, but the file has no header`);
    const index = names.indexOf(labelColumn);
    if (index < 0)
      throw new ValueError('parseCsv', `no column '${labelColumn}' (columns: ${names.join(', ')})`);
    return index;
  }
  if (!Number.isInteger(labelColumn) || labelColumn < -names.length || labelColumn >= names.length) {
    throw new ValueError(
      'parseCsv',
      `labelColumn ${labelColumn} is out of range for ${names.length} columns`,
    );
  }
  return labelColumn < 0 ? labelColumn + names.length : labelColumn;
}

/** int32 labels: the integers themselves, or indices into the sorted class names. */
function readLabels(
  rows: readonly Row[],
  column: number,
  fail: Fail,
): { labels: NDArray; classes?: string[] } {
  const texts = rows.map((row) => {
    const field = row.fields[column];
    if (field.text.trim() === '') fail(`an empty label (line ${row.line})`, field.offset);
    return field.text.trim();
  });
  const integral = texts.every((t) => /^[+-]?\d+$/.test(t) && Math.abs(Number(t)) < 2 ** 31);
  if (integral) return { labels: array(Int32Array.from(texts, Number)) };
  const classes = [...new Set(texts)].sort();
  const ids = new Map(classes.map((c, i) => [c, i]));
  return { labels: array(Int32Array.from(texts, (t) => ids.get(t)!)), classes };
}
