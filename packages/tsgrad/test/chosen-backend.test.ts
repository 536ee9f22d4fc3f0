import { cpuBackend, getBackend, setBackend } from '@tsgrad/tensor';
import { expect, it } from 'vitest';

// Its own file: vitest gives each file fresh modules, so tsgrad is not imported yet here.
it('keeps the backend a program selected before importing tsgrad', async () => {
  setBackend(cpuBackend);
  const tg = await import('tsgrad');
  expect(getBackend()).toBe(cpuBackend);
  expect(tg.getBackend().name).toBe('cpu');
});
