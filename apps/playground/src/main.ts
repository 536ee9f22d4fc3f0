// The page: a form for the config, the controls, and what the worker reports, drawn live.
import {
  accuracySpec,
  type Chart,
  chart,
  histogramSpec,
  lossSpec,
  normSpec,
  probabilitySpec,
} from './charts.js';
import { defaultConfig, type PlaygroundConfig, problemWith } from './config.js';
import type { PageState } from './page-state.js';
import { digitPad, drawBoundary, readDigit } from './pictures.js';
import type { FromWorker, ToWorker, Update } from './protocol.js';

const state: PageState = {
  running: false,
  step: 0,
  testAccuracy: 0,
  evaluations: 0,
  history: [],
  imports: 0,
};
window.playground = state;

const element = <E extends HTMLElement>(id: string) => document.getElementById(id) as E;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const digitsUrl = new URL('mnist-digits.bin', new URL(import.meta.env.BASE_URL, location.href)).href;
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

const charts = {
  loss: chart(element('loss'), lossSpec),
  accuracy: chart(element('accuracy'), accuracySpec),
  weightNorms: chart(element('weight-norms'), normSpec('weight norm ‖W‖')),
  gradientNorms: chart(element('gradient-norms'), normSpec('gradient norm ‖∂L/∂W‖')),
  probabilities: chart(element('probabilities'), probabilitySpec, 0),
};

// The form: each field's data-key names the config entry it edits.
const fields = [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-key]')];

function showConfig(config: PlaygroundConfig): void {
  for (const field of fields) {
    const value = config[field.dataset.key as keyof PlaygroundConfig];
    field.value = Array.isArray(value) ? value.join(', ') : String(value);
  }
  const digits = config.dataset === 'digits';
  element('boundary-panel').hidden = digits;
  element('digit-panel').hidden = !digits;
}

function readConfig(): PlaygroundConfig {
  const config: Record<string, unknown> = { ...defaultConfig };
  for (const field of fields) {
    const key = field.dataset.key as keyof PlaygroundConfig;
    if (key === 'hidden')
      config[key] = field.value
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
    else config[key] = typeof defaultConfig[key] === 'number' ? Number(field.value) : field.value;
  }
  return config as unknown as PlaygroundConfig;
}

function showError(message: string | undefined): void {
  state.error = message;
  element('error').hidden = message === undefined;
  element('error').textContent = message ?? '';
}

let curves: object[] = [];
let points: Update['points'];
let importPending = false;

function reset(resume: boolean): void {
  const config = readConfig();
  const problem = problemWith(config);
  showError(problem);
  if (problem !== undefined) return;
  showConfig(config);
  send({ type: 'reset', config, digitsUrl });
  if (resume) send({ type: 'play' });
}

function onUpdate(update: Update): void {
  predictDrawn();
  if (update.fresh) {
    curves = [];
    state.evaluations = 0;
    state.history = [];
    points = update.points ?? points;
  }
  for (const e of update.evaluations) {
    curves.push({ step: e.step, split: 'train', ...e.train }, { step: e.step, split: 'held-out', ...e.test });
    if (!Number.isNaN(e.batchLoss)) curves.push({ step: e.step, split: 'train batches', loss: e.batchLoss });
    state.testAccuracy = e.test.accuracy;
    state.history.push({ step: e.step, trainLoss: e.train.loss, testLoss: e.test.loss });
    state.evaluations += 1;
  }
  charts.loss.show(curves);
  charts.accuracy.show(curves.filter((row) => 'accuracy' in row));
  charts.weightNorms.show(update.layers.map((l) => ({ layer: l.name, value: l.weightNorm })));
  charts.gradientNorms.show(update.layers.map((l) => ({ layer: l.name, value: l.gradNorm })));
  showHistograms(update.layers);
  if (update.boundary) drawBoundary(element('boundary'), update.boundary, points);
  state.boundary = update.boundary && Array.from(update.boundary.probabilities);
  if (importPending) state.imports += 1;
  importPending = false;
  state.running = update.running;
  state.step = update.step;
  element('play').textContent = update.running ? '⏸ Pause' : '▶ Play';
  const accuracy = (100 * state.testAccuracy).toFixed(1);
  element('status').textContent =
    `step ${update.step} · epoch ${update.epoch} · lr ${update.lr.toPrecision(3)} · held-out accuracy ${accuracy} %`;
}

// One small chart per layer, in a row that wraps on narrow screens; rebuilt when the layers change.
let histograms: Chart[] = [];
let histogramLayers = '';

function showHistograms(layers: Update['layers']): void {
  const names = layers.map((l) => l.name).join();
  if (names !== histogramLayers) {
    for (const c of histograms) c.remove();
    const container = element('histograms');
    container.replaceChildren();
    histograms = layers.map((l) => {
      const box = container.appendChild(document.createElement('div'));
      return chart(box, histogramSpec(`layer ${l.name}`), 500);
    });
    histogramLayers = names;
  }
  layers.forEach(({ histogram: { low, high, counts } }, i) => {
    const width = (high - low) / counts.length;
    histograms[i].show(
      counts.map((count, b) => ({ low: low + b * width, high: low + (b + 1) * width, count })),
    );
  });
}

function download(bytes: Uint8Array): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  link.download = `playground-${readConfig().dataset}-step${state.step}.safetensors`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'backend': {
      state.backend = { threads: message.threads, isolated: message.isolated };
      element('backend').textContent = message.isolated
        ? `wasm backend · ${message.threads} threads (the page is cross-origin isolated)`
        : 'wasm backend · 1 thread (the page is not cross-origin isolated: no shared memory for threads)';
      break;
    }
    case 'update':
      showError(undefined);
      onUpdate(message);
      break;
    case 'exported':
      download(message.bytes);
      break;
    case 'imported':
      importPending = true;
      showConfig(message.config);
      break;
    case 'prediction':
      state.probabilities = message.probabilities;
      charts.probabilities.show(message.probabilities.map((probability, digit) => ({ digit, probability })));
      break;
    case 'error':
      showError(message.message);
      break;
  }
};
worker.onerror = (event) => showError(event.message);

element('play').addEventListener('click', () => send({ type: state.running ? 'pause' : 'play' }));
element('step').addEventListener('click', () => send({ type: 'step' }));
element('reset').addEventListener('click', () => reset(false));
element('export').addEventListener('click', () => {
  send({ type: 'pause' });
  send({ type: 'export' });
});
element<HTMLInputElement>('import').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file === undefined) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  send({ type: 'import', bytes, digitsUrl }, [bytes.buffer]);
  (event.target as HTMLInputElement).value = '';
});
for (const field of fields) field.addEventListener('change', () => reset(state.running));

// The drawn digit is read again after each update, so its probabilities follow the training.
let drawn = false;
const predictDrawn = () => {
  if (drawn && !element('digit-panel').hidden) send({ type: 'predict', pixels: readDigit(element('pad')) });
};
const pad = digitPad(element('pad'), () => {
  drawn = true;
  predictDrawn();
});
element('clear').addEventListener('click', () => {
  pad.clear();
  drawn = false;
});

// Vega measures its container when it draws: redraw at the new width.
addEventListener('resize', () => {
  for (const c of [...Object.values(charts), ...histograms]) c.show([...c.rows]);
});

showConfig(defaultConfig);
reset(false);
