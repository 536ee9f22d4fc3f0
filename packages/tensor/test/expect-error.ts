import type * as T from '@tsgrad/tensor';
import { expect } from 'vitest';

/** Asserts that `fn` throws `kind` with a message that starts with the op's name. */
export function expectError(
  fn: () => unknown,
  kind: typeof T.TsgradError,
  op: string,
  mentions: string[] = [],
): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(kind);
  const message = (caught as Error).message;
  expect(message.startsWith(`${op}: `)).toBe(true);
  for (const m of mentions) expect(message).toContain(m);
}
