import type { View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import type { WasmRuntime } from '../runtime.js';

/** Dimensions a descriptor holds after merging; views needing more take the fallback. */
const MAX_DIMS = 8;
const HEADER_WORDS = 64;
const SCRATCH_WORDS_PER_THREAD = 8;
const INPUT_WORDS = 1 + MAX_DIMS;
const FIRST_INPUT_WORD = 10;
/** Where `write` puts the output's byte address, and input j's. */
export const OUTPUT_POINTER_WORD = 9;
export const inputPointerWord = (j: number): number => FIRST_INPUT_WORD + INPUT_WORDS * j;

const NULL_BUFFER = { ptr: 0 } as WasmBuffer;
/** How many recent templates a descriptor compares a new layout with. */
const RECENT_TEMPLATES = 8;
/** Words per block of templates (a 2-input template takes 28). */
const TEMPLATE_BLOCK_WORDS = 4096;

/**
 * Writes the operand layout that the elementwise kernels read (layout documented in
 * assembly/elementwise.ts) into one block of the wasm memory. Dimensions of size 1 are dropped
 * and neighbouring dimensions that every operand walks as one are merged, so a contiguous
 * operand becomes one long row, a bias `[B, N] + [N]` becomes B rows of N, and only truly
 * strided views keep several dimensions.
 */
export class StridedDescriptor {
  readonly ptr: number;
  private readonly wordCount: number;
  private words: Int32Array;
  // The merged layout, innermost dimension first.
  private readonly shape = new Array<number>(MAX_DIMS).fill(0);
  private readonly strides = [0, 1, 2].map(() => new Array<number>(MAX_DIMS).fill(0));
  /** The block templates are carved from, and how much of it is taken. */
  private templates = new Int32Array(0);
  private templatesUsed = 0;
  /**
   * The last few templates made, with the layouts they describe: equations often share one (an
   * elementwise chain has a handful), and templates never change.
   */
  private readonly recent: RecentTemplate[] = [];

  constructor(private readonly runtime: WasmRuntime) {
    this.wordCount = HEADER_WORDS + SCRATCH_WORDS_PER_THREAD * runtime.pool.threads;
    this.ptr = runtime.allocator.alloc(this.wordCount * 4);
    this.words = new Int32Array(runtime.buffer, this.ptr, this.wordCount);
  }

  /**
   * Describes `inputs` (views of the output's shape) and the contiguous output at byte
   * `outPtr`; returns false when the merged layout needs more than MAX_DIMS dimensions.
   */
  write(
    shape: readonly number[],
    outPtr: number,
    inputs: readonly View<WasmBuffer>[],
    bytes: readonly number[],
  ): boolean {
    const merged = this.shape;
    const strides = this.strides;
    const count = inputs.length;
    let dims = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const size = shape[d];
      if (size === 1) continue;
      if (dims > 0) {
        const inner = dims - 1;
        let mergeable = true;
        for (let j = 0; j < count && mergeable; j++) {
          mergeable = inputs[j].strides[d] === strides[j][inner] * merged[inner];
        }
        if (mergeable) {
          merged[inner] *= size;
          continue;
        }
      }
      if (dims === MAX_DIMS) return false;
      merged[dims] = size;
      for (let j = 0; j < count; j++) strides[j][dims] = inputs[j].strides[d];
      dims++;
    }
    if (dims === 0) {
      merged[0] = 1;
      for (let j = 0; j < count; j++) strides[j][0] = 0;
      dims = 1;
    }
    const words = this.view();
    words[0] = dims;
    for (let i = 0; i < dims; i++) words[1 + i] = merged[dims - 1 - i];
    words[9] = outPtr;
    for (let j = 0; j < count; j++) {
      const base = FIRST_INPUT_WORD + INPUT_WORDS * j;
      const view = inputs[j];
      words[base] = view.handle.ptr + view.offset * bytes[j];
      for (let i = 0; i < dims; i++) words[base + 1 + i] = strides[j][dims - 1 - i];
    }
    return true;
  }

  /** The descriptor's words (a non-shared memory detaches its old buffer when it grows). */
  view(): Int32Array {
    if (this.words.buffer.byteLength === 0)
      this.words = new Int32Array(this.runtime.buffer, this.ptr, this.wordCount);
    return this.words;
  }

  /**
   * What `write` would write with every address 0 (the caller adds each view's address and
   * offset, see `load`), or undefined when the layout needs the fallback.
   */
  template(
    shape: readonly number[],
    inputs: readonly View<WasmBuffer>[],
    bytes: readonly number[],
  ): Int32Array | undefined {
    // Newest first: along a chain the layout of the last call or two usually repeats.
    for (let i = this.recent.length - 1; i >= 0; i--) {
      if (this.recent[i].describes(shape, inputs)) return this.recent[i].template;
    }
    const placeholders = new Array<View<WasmBuffer>>(inputs.length);
    for (let j = 0; j < inputs.length; j++) {
      const { dtype, shape: viewShape, strides } = inputs[j];
      placeholders[j] = { handle: NULL_BUFFER, dtype, shape: viewShape, strides, offset: 0 };
    }
    if (!this.write(shape, 0, placeholders, bytes)) return undefined;
    // Only the words `write` fills, carved out of a shared block: a plan prepares thousands of
    // calls, and an ArrayBuffer each cost its compile a collection of thousands of buffers.
    const used = inputPointerWord(inputs.length);
    if (this.templates.length - this.templatesUsed < used) {
      this.templates = new Int32Array(Math.max(TEMPLATE_BLOCK_WORDS, used));
      this.templatesUsed = 0;
    }
    const template = this.templates.subarray(this.templatesUsed, this.templatesUsed + used);
    this.templatesUsed += used;
    template.set(this.view().subarray(0, used));
    if (this.recent.length === RECENT_TEMPLATES) this.recent.shift();
    this.recent.push(new RecentTemplate(template, shape, inputs));
    return template;
  }

  /** Writes a `template` into the descriptor and returns its words, for the caller to add the addresses. */
  load(template: Int32Array): Int32Array {
    const words = this.view();
    words.set(template);
    return words;
  }
}

const sameNumbers = (a: readonly number[], b: readonly number[]) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** A template and the output shape and input strides it was made for (all it depends on: its addresses are 0). */
class RecentTemplate {
  private readonly strides: (readonly number[])[];

  constructor(
    readonly template: Int32Array,
    private readonly shape: readonly number[],
    inputs: readonly View<WasmBuffer>[],
  ) {
    this.strides = inputs.map((v) => v.strides);
  }

  /** Whether `write` would write the same words for these operands (addresses aside). */
  describes(shape: readonly number[], inputs: readonly View<WasmBuffer>[]): boolean {
    if (this.strides.length !== inputs.length || !sameNumbers(this.shape, shape)) return false;
    for (let j = 0; j < inputs.length; j++)
      if (!sameNumbers(this.strides[j], inputs[j].strides)) return false;
    return true;
  }
}
