import * as tg from 'tsgrad';
import { describe, expect, it } from 'vitest';

describe('importing tsgrad', () => {
  it('selects the wasm backend, with worker threads in Node', () => {
    const backend = tg.getBackend();
    expect(backend.name).toBe('wasm');
    expect((backend as { runtime?: { pool: { threads: number } } }).runtime?.pool.threads).toBeGreaterThan(0);
  });

  it('computes on it, and withBackend switches to the CPU reference for a call', () => {
    const x = tg.tensor([1, 2, 3]);
    const onWasm = Number(x.exp().sum().item());
    const onCpu = Number(tg.withBackend(tg.cpuBackend, () => tg.tensor([1, 2, 3]).exp().sum().item()));
    expect(onWasm).toBeCloseTo(Math.exp(1) + Math.exp(2) + Math.exp(3), 4);
    expect(onWasm).toBeCloseTo(onCpu, 4);
  });
});
