import type { Fail } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** UTF-8 length of the UTF-16 code unit `code` (a surrogate pair counts 2 + 2). */
function utf8Length(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 2;
  return 3;
}

/** UTF-8 length of `text`. */
export function utf8LengthOf(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += utf8Length(text.charCodeAt(i));
  return bytes;
}

/**
 * Walks JSON text that `JSON.parse` has already accepted and returns the byte offset of each
 * top-level key (`base` is the byte offset of the text in the file). JSON.parse silently keeps
 * the last of two equal keys, so this walk is where duplicates, at any depth, are rejected.
 * Iterative, so deeply nested hostile input cannot overflow the stack.
 */
export function topLevelKeyOffsets(text: string, base: number, fail: Fail): Map<string, number> {
  const offsets = new Map<string, number>();
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  let byte = base;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code !== QUOTE) {
      if (code === 0x7b) {
        open.push(new Set());
        expectKey = true;
      } else if (code === 0x5b) {
        open.push(null);
      } else if (code === 0x7d || code === 0x5d) {
        open.pop();
      } else if (code === 0x2c) {
        expectKey = open[open.length - 1] !== null;
      }
      byte += utf8Length(code);
      i++;
      continue;
    }
    const start = i;
    const startByte = byte;
    let escaped = false;
    byte++;
    i++;
    // JSON.parse accepted the text, so the string ends; the bound is only a second guard.
    while (i < text.length && text.charCodeAt(i) !== QUOTE) {
      if (text.charCodeAt(i) === BACKSLASH) {
        escaped = true;
        byte += 2;
        i += 2;
      } else {
        byte += utf8Length(text.charCodeAt(i));
        i++;
      }
    }
    byte++;
    i++;
    const keys = open[open.length - 1];
    if (expectKey && keys) {
      const raw = text.slice(start, i);
      const key: string = escaped ? JSON.parse(raw) : raw.slice(1, -1);
      if (keys.has(key)) fail(`duplicate key ${JSON.stringify(key)} in the header`, startByte);
      keys.add(key);
      if (open.length === 1) offsets.set(key, startByte);
      expectKey = false;
    }
  }
  return offsets;
}
