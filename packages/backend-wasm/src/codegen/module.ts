import { TsgradError } from '@tsgrad/tensor';
import {
  float32Bytes,
  float64Bytes,
  nameBytes,
  sectionBytes,
  signedLeb128,
  unsignedLeb128,
  vectorBytes,
} from './encoding.js';

// A small builder of WebAssembly modules: the sections, instructions and types that the
// generated kernels use, nothing more. Every module it builds is checked with
// WebAssembly.validate before it is compiled.

/** A module the engine refused: a bug in the code generator, never the user's. */
export class CodegenError extends TsgradError {}

export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Opcodes without a prefix. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  f32Load: 0x2a,
  f64Load: 0x2b,
  f32Store: 0x38,
  f64Store: 0x39,
  i32Store8: 0x3a,
  i32Const: 0x41,
  f32Const: 0x43,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  f32Eq: 0x5b,
  f32Ne: 0x5c,
  f32Lt: 0x5d,
  f32Gt: 0x5e,
  f32Le: 0x5f,
  f32Ge: 0x60,
  f64Eq: 0x61,
  f64Ne: 0x62,
  f64Lt: 0x63,
  f64Gt: 0x64,
  f64Le: 0x65,
  f64Ge: 0x66,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  f32Abs: 0x8b,
  f32Neg: 0x8c,
  f32Ceil: 0x8d,
  f32Floor: 0x8e,
  f32Nearest: 0x90,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Min: 0x96,
  f32Max: 0x97,
  f32Copysign: 0x98,
  f64Abs: 0x99,
  f64Neg: 0x9a,
  f64Ceil: 0x9b,
  f64Floor: 0x9c,
  f64Nearest: 0x9e,
  f64Sqrt: 0x9f,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f64Min: 0xa4,
  f64Max: 0xa5,
  f64Copysign: 0xa6,
  f32ConvertI32U: 0xb3,
  f32DemoteF64: 0xb6,
  f64ConvertI32U: 0xb8,
  f64PromoteF32: 0xbb,
} as const;

/** Opcodes after the 0xfd (SIMD) prefix. */
export const Simd = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Load64Splat: 0x0a,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  f32x4ExtractLane: 0x1f,
  f32x4ReplaceLane: 0x20,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  f64x2Eq: 0x47,
  f64x2Ne: 0x48,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128AndNot: 0x4f,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  v128AnyTrue: 0x53,
  f64x2PromoteLowF32x4: 0x5f,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  f32x4Nearest: 0x6a,
  f64x2Ceil: 0x74,
  f64x2Floor: 0x75,
  f64x2Nearest: 0x94,
  i32x4Bitmask: 0xa4,
  i32x4Shl: 0xab,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Min: 0xf4,
  f64x2Max: 0xf5,
  /** Relaxed SIMD: a·b + c, fused or not as the engine chooses. */
  f32x4RelaxedMadd: 0x105,
} as const;

const SIMD_PREFIX = 0xfd;
const BLOCK_VOID = 0x40;
const FUNC_TYPE = 0x60;

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** The body of one function: its locals and instructions, appended in order. */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly type: FuncType) {}

  /** A new local of `type`; returns its index (parameters come first). */
  local(type: ValType): number {
    this.locals.push(type);
    return this.type.params.length + this.locals.length - 1;
  }

  /** Emits what `emit` appends before everything appended so far (say, loads hoisted out of loops). */
  prepend(emit: () => void): this {
    const body = this.code.splice(0);
    emit();
    for (const byte of body) this.code.push(byte);
    return this;
  }

  /** Appends an opcode from `Op` and its immediates, already encoded. */
  op(opcode: number, ...immediates: number[]): this {
    this.code.push(opcode, ...immediates);
    return this;
  }

  simd(opcode: number, ...immediates: number[]): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(opcode), ...immediates);
    return this;
  }

  get(index: number): this {
    return this.op(Op.localGet, ...unsignedLeb128(index));
  }
  set(index: number): this {
    return this.op(Op.localSet, ...unsignedLeb128(index));
  }
  tee(index: number): this {
    return this.op(Op.localTee, ...unsignedLeb128(index));
  }
  i32(value: number): this {
    return this.op(Op.i32Const, ...signedLeb128(value));
  }
  f32(value: number): this {
    return this.op(Op.f32Const, ...float32Bytes(value));
  }
  f64(value: number): this {
    return this.op(Op.f64Const, ...float64Bytes(value));
  }
  /** A memory access with its alignment (log2 bytes) and constant byte offset. */
  memory(opcode: number, alignLog2: number, offset = 0): this {
    return this.op(opcode, ...unsignedLeb128(alignLog2), ...unsignedLeb128(offset));
  }
  simdMemory(opcode: number, alignLog2: number, offset = 0): this {
    return this.simd(opcode, ...unsignedLeb128(alignLog2), ...unsignedLeb128(offset));
  }
  lane(opcode: number, lane: number): this {
    return this.simd(opcode, lane);
  }
  call(index: number): this {
    return this.op(Op.call, ...unsignedLeb128(index));
  }
  /** `block` / `loop` / `if` without results; close with `end()`. */
  block(): this {
    return this.op(Op.block, BLOCK_VOID);
  }
  loop(): this {
    return this.op(Op.loop, BLOCK_VOID);
  }
  if(): this {
    return this.op(Op.if, BLOCK_VOID);
  }
  end(): this {
    return this.op(Op.end);
  }
  br(depth: number): this {
    return this.op(Op.br, ...unsignedLeb128(depth));
  }
  brIf(depth: number): this {
    return this.op(Op.brIf, ...unsignedLeb128(depth));
  }

  /** The encoded body: locals grouped by runs of one type, the code, and `end`. */
  bytes(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      groups.push([...unsignedLeb128(j - i), this.locals[i]]);
      i = j;
    }
    const body = [...vectorBytes(groups), ...this.code, Op.end];
    return [...unsignedLeb128(body.length), ...body];
  }
}

export interface MemoryImport {
  readonly module: string;
  readonly name: string;
  readonly shared: boolean;
  /** Limits in 64 KiB pages. */
  readonly minimum: number;
  readonly maximum: number;
}

const typeBytes = (t: FuncType) => [
  FUNC_TYPE,
  ...vectorBytes(t.params.map((p) => [p])),
  ...vectorBytes(t.results.map((r) => [r])),
];

/** A module under construction: imports first, then functions and their exports. */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeIndex = new Map<string, number>();
  private readonly imports: number[][] = [];
  private importedFunctions = 0;
  private readonly functions: FunctionBuilder[] = [];
  private readonly exports: number[][] = [];

  private typeOf(type: FuncType): number {
    const key = `${type.params.join(',')}>${type.results.join(',')}`;
    let index = this.typeIndex.get(key);
    if (index === undefined) {
      index = this.types.push(type) - 1;
      this.typeIndex.set(key, index);
    }
    return index;
  }

  importMemory(m: MemoryImport): void {
    const flags = m.shared ? 0x03 : 0x01;
    this.imports.push([
      ...nameBytes(m.module),
      ...nameBytes(m.name),
      0x02,
      flags,
      ...unsignedLeb128(m.minimum),
      ...unsignedLeb128(m.maximum),
    ]);
  }

  /** Imports a function; returns its function index. Import every function before adding any. */
  importFunction(module: string, name: string, type: FuncType): number {
    if (this.functions.length > 0) throw new CodegenError('codegen', 'imports must come before functions');
    this.imports.push([...nameBytes(module), ...nameBytes(name), 0x00, ...unsignedLeb128(this.typeOf(type))]);
    return this.importedFunctions++;
  }

  /** Adds a function (exported under `exportName` if given); returns its function index. */
  addFunction(fn: FunctionBuilder, exportName?: string): number {
    this.typeOf(fn.type);
    const index = this.importedFunctions + this.functions.push(fn) - 1;
    if (exportName !== undefined)
      this.exports.push([...nameBytes(exportName), 0x00, ...unsignedLeb128(index)]);
    return index;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const bytes = [
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      ...sectionBytes(1, vectorBytes(this.types.map(typeBytes))),
      ...sectionBytes(2, vectorBytes(this.imports)),
      ...sectionBytes(3, vectorBytes(this.functions.map((f) => unsignedLeb128(this.typeOf(f.type))))),
      ...sectionBytes(7, vectorBytes(this.exports)),
      ...sectionBytes(10, vectorBytes(this.functions.map((f) => f.bytes()))),
    ];
    return Uint8Array.from(bytes);
  }
}

/** Compiles module bytes after validating them; an invalid module is a CodegenError. */
export function compileModule(bytes: Uint8Array<ArrayBuffer>, what: string): WebAssembly.Module {
  if (!WebAssembly.validate(bytes)) {
    let reason = 'WebAssembly.validate refused it';
    try {
      new WebAssembly.Module(bytes);
    } catch (e) {
      reason = (e as Error).message;
    }
    throw new CodegenError('codegen', `the generated module for ${what} is invalid: ${reason}`);
  }
  return new WebAssembly.Module(bytes);
}
