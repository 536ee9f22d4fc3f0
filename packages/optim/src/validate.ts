import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';

// The checks of hyper-parameters and saved state, one helper per kind of value. Each throws a
// ValueError naming the optimizer (or function) and the option, as PyTorch's "Invalid learning
// rate: -1" does, before anything is built or changed.

/** Checks the value of option `name` of `op`. */
export type Rule = (op: string, name: string, value: unknown) => void;

/** The rules of every option of an options object. */
export type Rules<O> = { readonly [K in keyof O]-?: Rule };

function fail(op: string, name: string, expected: string, value: unknown): never {
  // The rules are exported with the tables that hold them (ONE_CYCLE_RULES), so even `name` may be hostile.
  const option = typeof name === 'string' ? name : T.describe(name);
  throw new T.ValueError(op, `${option} must be ${expected}, got ${T.describe(value)}`);
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value);

/** A rule for numbers in [min, max] (or [min, max) with `maxOpen`), optionally integers only. */
function numberRule(expected: string, ok: (x: number) => boolean): Rule {
  return (op, name, value) => {
    if (!isNumber(value) || !ok(value)) fail(op, name, expected, value);
  };
}

export const finite: Rule = numberRule('a finite number', Number.isFinite);
export const nonNegative: Rule = numberRule('a non-negative number', (x) => x >= 0 && Number.isFinite(x));
export const positive: Rule = numberRule('a positive number', (x) => x > 0 && Number.isFinite(x));
export const unitInterval: Rule = numberRule('a number in [0, 1]', (x) => x >= 0 && x <= 1);
/** A decay rate: in [0, 1). */
export const beta: Rule = numberRule('a number in [0, 1)', (x) => x >= 0 && x < 1);
export const count: Rule = numberRule('a non-negative integer', (x) => Number.isInteger(x) && x >= 0);
/** A step counter that starts at −1 before the first step (a scheduler's lastEpoch). */
export const integerFromMinusOne: Rule = numberRule('an integer ≥ -1', (x) => Number.isInteger(x) && x >= -1);
export const positiveInteger: Rule = numberRule('a positive integer', (x) => Number.isInteger(x) && x > 0);
/** A number, possibly ±Infinity (a metric's best value, a norm type). */
export const number: Rule = numberRule('a number', () => true);

/** A p-norm's p: positive, possibly Infinity. */
export const normType: Rule = numberRule('a positive number or Infinity', (x) => x > 0);

/** An NDArray (an update, a gradient). */
export const ndarray: Rule = (op, name, value) => {
  if (!(value instanceof T.NDArray)) fail(op, name, 'an NDArray', value);
};

/** Anything: an option checked elsewhere (e.g. axes, by the op that takes them). */
export const any: Rule = () => {};

export const boolean: Rule = (op, name, value) => {
  if (typeof value !== 'boolean') fail(op, name, 'true or false', value);
};

/** One of a few strings. */
export const oneOf =
  (...choices: readonly string[]): Rule =>
  (op, name, value) => {
    if (typeof value !== 'string' || !choices.includes(value))
      fail(op, name, `one of ${choices.map(T.describe).join(', ')}`, value);
  };

/** A learning rate of the functional API: a non-negative number or a schedule. */
export const learningRate: Rule = (op, name, value) => {
  if (typeof value !== 'function' && !(isNumber(value) && value >= 0 && Number.isFinite(value)))
    fail(op, name, 'a non-negative number or a schedule', value);
};

/** A schedule or any other callback. */
export const callable: Rule = (op, name, value) => {
  if (typeof value !== 'function') fail(op, name, 'a function', value);
};

/** A list of values each checked by `rule`, of a given length if `length` is set. */
export const listOf =
  (rule: Rule, length?: number): Rule =>
  (op, name, value) => {
    if (!Array.isArray(value) || (length !== undefined && value.length !== length))
      fail(op, name, length === undefined ? 'a list' : `a list of ${length}`, value);
    value.forEach((x, i) => {
      rule(op, `${name}[${i}]`, x);
    });
  };

/** A plain object (a saved state record). */
export const record: Rule = T.checkRecord;

/** Adam-style (β₁, β₂), each in [0, 1). */
export const betas: Rule = listOf(beta, 2);

/**
 * Checks every option given against `rules` (an option with no rule is unknown) and that the
 * `required` ones are given.
 */
export function checkOptions<O>(
  op: string,
  rules: Rules<O>,
  options: unknown,
  required: readonly (keyof O & string)[] = [],
): void {
  T.checkRecord(op, 'options', options);
  const missing = required.filter((name) => options[name] === undefined);
  if (missing.length > 0)
    throw new T.ValueError(op, `missing the option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  for (const [name, value] of Object.entries(options)) {
    const rule = (rules as Record<string, Rule | undefined>)[name];
    if (rule === undefined)
      throw new T.ValueError(op, `unknown option '${name}' (expected ${Object.keys(rules).join(', ')})`);
    if (value !== undefined) rule(op, name, value);
  }
}

/** The tensors of an iterable of tensors (parameters), as a list. */
export function tensorList(op: string, name: string, value: unknown): Tensor[] {
  const iterable = typeof value === 'object' && value !== null && Symbol.iterator in value;
  const list = iterable ? [...(value as Iterable<unknown>)] : [];
  if (!iterable || !list.every((x) => x instanceof Tensor)) fail(op, name, 'an iterable of Tensors', value);
  return list as Tensor[];
}

/**
 * Checks a saved state record: an object with exactly the fields of `rules` (all required),
 * each checked by its rule.
 */
export function checkFields<O>(
  op: string,
  name: string,
  rules: Rules<O>,
  value: unknown,
): asserts value is O {
  T.checkRecord(op, name, value);
  const missing = Object.keys(rules).filter((key) => value[key] === undefined);
  if (missing.length > 0) throw new T.ValueError(op, `${name} is missing ${missing.join(', ')}`);
  const extra = Object.keys(value).filter((key) => !(key in rules));
  if (extra.length > 0) throw new T.ValueError(op, `${name} has unexpected fields ${extra.join(', ')}`);
  for (const [key, rule] of Object.entries<Rule>(rules)) rule(op, `${name}.${key}`, value[key]);
}

/** Throws a ValueError naming `op` unless `ok`. */
export function check(ok: boolean, op: string, detail: string): void {
  if (!ok) throw new T.ValueError(op, detail);
}

/** A saved state array: a floating-point NDArray of finite values. */
export function checkStateArray(op: string, name: string, value: unknown): asserts value is T.NDArray {
  if (!(value instanceof T.NDArray)) fail(op, name, 'an NDArray', value);
  if (value.dtype !== 'float32' && value.dtype !== 'float64')
    throw new T.DTypeError(op, `${name} has dtype ${value.dtype}, expected float32 or float64`);
  const data = value.toTypedArray();
  const bad = data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new T.ValueError(op, `${name} holds the non-finite value ${data[bad]} at index ${bad}`);
}
