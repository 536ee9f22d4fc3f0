import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageReport } from '../src/page.js';

// tsgrad's default backend in headless Chromium (apt's /usr/bin/chromium): served with
// cross-origin isolation it runs on a shared memory with a Web Worker per core; served
// without, on one thread and an unshared memory. Either way it computes what the CPU
// reference computes, and an MLP trains.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'tsgrad-browser-'));
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  await build({
    configFile: false,
    logLevel: 'warn',
    resolve: { conditions: ['@tsgrad/source', 'browser', 'module', 'import', 'default'] },
    build: {
      outDir: dir,
      emptyOutDir: false,
      minify: false,
      lib: {
        entry: fileURLToPath(new URL('../src/page.ts', import.meta.url)),
        formats: ['es'],
        fileName: 'page',
      },
    },
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./page.js"></script>');
  server = createServer((request, response) => {
    const isolated = request.url?.startsWith('/isolated/') ?? false;
    const file = (request.url ?? '/').replace(/^\/(isolated|plain)\//, '') || 'index.html';
    const headers: Record<string, string> = {
      'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html',
    };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    try {
      const body = readFileSync(join(dir, file));
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reportFrom(path: string): Promise<PageReport> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}${path}`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.tsgradReport !== undefined, undefined, { timeout: 60_000 });
  const report = await page.evaluate(() => window.tsgradReport);
  await page.close();
  if (report === undefined || 'error' in report)
    throw new Error(`the page failed: ${JSON.stringify(report)} ${errors.join('\n')}`);
  console.log(`chromium ${path}: ${JSON.stringify(report)}`);
  return report;
}

describe('the wasm backend in Chromium', () => {
  it('uses Web Workers on a shared memory when cross-origin isolated', async () => {
    const report = await reportFrom('/isolated/');
    expect(report.backend).toBe('wasm');
    expect(report.sharedMemory).toBe(true);
    expect(report.relaxedSimd).toBe(true);
    expect(report.threads).toBeGreaterThanOrEqual(2);
    expect(report.maxDifference).toBeLessThan(1e-4);
    expect(report.lastLoss).toBeLessThan(report.firstLoss / 2);
  }, 90_000);

  it('runs on one thread and an unshared memory otherwise', async () => {
    const report = await reportFrom('/plain/');
    expect(report.backend).toBe('wasm');
    expect(report.sharedMemory).toBe(false);
    expect(report.threads).toBe(1);
    expect(report.maxDifference).toBeLessThan(1e-4);
    expect(report.lastLoss).toBeLessThan(report.firstLoss / 2);
  }, 90_000);
});
