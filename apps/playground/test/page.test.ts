import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { io } from 'tsgrad';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.js';
import type {} from '../src/page-state.js'; // window.playground
import { Trainer } from '../src/trainer.js';
import { isolationHeaders, playgroundConfig } from '../vite.config.js';

// The playground's static build in headless Chromium (apt's /usr/bin/chromium), served with the
// two isolation headers (threads) and without (one thread): it trains spirals to 95 % held-out
// accuracy, the pictures change as it learns, its weights are those Node computes from the same
// seed, and exported weights give the same predictions in a fresh page.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const app = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsgrad-playground-'));
// README's screenshots are rewritten only when asked, so that a test run leaves the tree clean.
const screenshots = process.env.UPDATE_SCREENSHOTS === '1' ? join(app, 'screenshots') : dir;
const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.bin': 'application/octet-stream',
};
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  await build({
    ...playgroundConfig(() => import('@tsgrad/data/node')),
    root: app,
    configFile: false,
    logLevel: 'warn',
    resolve: { conditions: ['@tsgrad/source', 'browser', 'module', 'import', 'default'] },
    build: { outDir: dir, emptyOutDir: true },
  });
  server = createServer((request, response) => {
    const isolated = request.url?.startsWith('/isolated/') ?? false;
    const file = (request.url ?? '/').replace(/^\/(isolated|plain)\//, '').split('?')[0] || 'index.html';
    try {
      const body = readFileSync(join(dir, file));
      const type = types[extname(file)] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-type': type, ...(isolated ? isolationHeaders : {}) }).end(body);
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

/** A page that has its backend and its first evaluation. */
async function open(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}${path}`);
  await page
    .waitForFunction(
      () => window.playground.backend !== undefined && window.playground.evaluations > 0,
      undefined,
      {
        timeout: 30_000,
      },
    )
    .catch((e: unknown) => {
      throw new Error(`the page did not start: ${String(e)} ${errors.join('\n')}`);
    });
  return page;
}

const pixelsOf = (page: Page, selector: string) =>
  page.$eval(selector, (canvas) => (canvas as HTMLCanvasElement).toDataURL());

/** Plays until the held-out accuracy reaches 95 %; returns the seconds it took. */
async function trainToTarget(page: Page): Promise<number> {
  const started = performance.now();
  await page.click('#play');
  await page.waitForFunction(() => window.playground.testAccuracy >= 0.95, undefined, {
    timeout: 30_000,
    polling: 50,
  });
  const seconds = (performance.now() - started) / 1000;
  await page.click('#play'); // pause
  await page.waitForFunction(() => !window.playground.running);
  return seconds;
}

async function exportWeights(page: Page): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const path = join(dir, download.suggestedFilename());
  await download.saveAs(path);
  return path;
}

describe('the playground in Chromium', () => {
  let exported = '';
  let predictions: number[] = [];

  it('trains spirals to 95 % held-out accuracy with threads when cross-origin isolated', async () => {
    const page = await open('/isolated/');
    const backend = await page.evaluate(() => window.playground.backend);
    expect(backend?.isolated).toBe(true);
    expect(backend?.threads).toBeGreaterThanOrEqual(2);
    await expect(page.textContent('#backend')).resolves.toContain('threads');
    await page.waitForTimeout(500); // the charts draw their first rows
    const before = {
      boundary: await pixelsOf(page, '#boundary'),
      loss: await pixelsOf(page, '#loss canvas'),
    };

    const seconds = await trainToTarget(page);
    console.log(
      `playground, cross-origin isolated (${backend?.threads} threads): 95 % held-out in ${seconds.toFixed(1)} s`,
    );
    expect(seconds).toBeLessThanOrEqual(30);
    await page.waitForTimeout(500);
    expect(await pixelsOf(page, '#boundary')).not.toBe(before.boundary);
    expect(await pixelsOf(page, '#loss canvas')).not.toBe(before.loss);
    expect(await page.evaluate(() => window.playground.evaluations)).toBeGreaterThan(2);

    // The pictures for README: a settled model, a little further on.
    await page.click('#play');
    await page.waitForFunction(() => window.playground.step >= 800, undefined, { timeout: 20_000 });
    await page.click('#play');
    await page.waitForFunction(() => !window.playground.running);
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(screenshots, 'desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(screenshots, 'phone.png'), fullPage: true });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390); // nothing sticks out sideways on a phone

    exported = await exportWeights(page);
    predictions = (await page.evaluate(() => window.playground.boundary)) ?? [];
    expect(predictions.length).toBeGreaterThan(0);
    await page.close();
  }, 60_000);

  it('imports exported weights into a fresh page with identical predictions', async () => {
    expect(exported).not.toBe('');
    const page = await open('/isolated/');
    await page.setInputFiles('#import', exported);
    await page.waitForFunction(() => window.playground.imports === 1);
    expect(await page.evaluate(() => window.playground.boundary)).toEqual(predictions);
    await page.close();
  }, 30_000);

  it('trains on one thread without isolation, exactly as Node does from the same seed', async () => {
    const page = await open('/plain/');
    expect(await page.evaluate(() => window.playground.backend)).toEqual({ threads: 1, isolated: false });
    await expect(page.textContent('#backend')).resolves.toContain('1 thread');
    const seconds = await trainToTarget(page);
    console.log(`playground, not isolated (1 thread): 95 % held-out in ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThanOrEqual(30);

    const { step, history } = await page.evaluate(() => window.playground);
    const weights = io.fromBytes(readFileSync(await exportWeights(page))).tensors;
    await page.close();
    const node = new Trainer(defaultConfig);
    const trajectory = [
      { step: 0, trainLoss: node.evaluate(node.trainSample).loss, testLoss: node.evaluate(node.test).loss },
    ];
    while (node.steps < step) {
      node.step();
      if (node.steps % 20 === 0)
        trajectory.push({
          step: node.steps,
          trainLoss: node.evaluate(node.trainSample).loss,
          testLoss: node.evaluate(node.test).loss,
        });
    }
    expect(history).toEqual(trajectory);
    for (const [name, value] of Object.entries(node.model.stateDict()))
      expect(weights[`model.${name}`].toTypedArray(), name).toEqual(value.toTypedArray());
  }, 60_000);

  it('learns the MNIST digits and reads a digit drawn on the pad', async () => {
    const page = await open('/isolated/');
    await page.selectOption('[data-key=dataset]', 'digits');
    await page.fill('[data-key=points]', '2000');
    await page.dispatchEvent('[data-key=points]', 'change');
    await page.waitForFunction(
      () => window.playground.evaluations > 0 && window.playground.boundary === undefined,
    );
    await page.click('#play');
    await page.waitForFunction(() => window.playground.testAccuracy >= 0.85, undefined, { timeout: 30_000 });
    await page.click('#play');
    const pad = await page.locator('#pad').boundingBox();
    if (pad === null) throw new Error('the pad is not shown');
    // A vertical stroke: a one.
    await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.8, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => window.playground.probabilities !== undefined);
    const probabilities = (await page.evaluate(() => window.playground.probabilities)) ?? [];
    console.log(`playground, digits: drawn one read as ${probabilities.map((p) => p.toFixed(2)).join(' ')}`);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(1);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(screenshots, 'digits.png') });
    await page.close();
  }, 60_000);
});
