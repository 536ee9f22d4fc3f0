// The two canvases that are not charts: the decision boundary with the training points on it,
// and the pad to draw a digit on, read back as a 28×28 MNIST-like image.
import type { Boundary } from './trainer.js';

const CLASS_COLORS = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
];

/** Paints each grid cell in its classes' colors, mixed by probability and paler where unsure; then the points. */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  boundary: Boundary,
  points: { x: Float32Array; y: Int32Array } | undefined,
): void {
  const { size, classes, probabilities, extent } = boundary;
  const cells = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    let [r, g, b, top] = [0, 0, 0, 0];
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c];
      r += p * CLASS_COLORS[c][0];
      g += p * CLASS_COLORS[c][1];
      b += p * CLASS_COLORS[c][2];
      top = Math.max(top, p);
    }
    // Certainty (top probability from 1/classes to 1) sets how strongly the color shows.
    const strength = 0.25 + 0.5 * ((top - 1 / classes) / (1 - 1 / classes));
    cells.data.set([r, g, b].map((v) => 255 + (v - 255) * strength).concat(255), i * 4);
  }
  const context = canvas.getContext('2d');
  if (context === null) return;
  const small = new OffscreenCanvas(size, size);
  small.getContext('2d')?.putImageData(cells, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (points === undefined) return;
  const [xmin, xmax, ymin, ymax] = extent;
  for (let i = 0; i < points.y.length; i++) {
    const px = ((points.x[2 * i] - xmin) / (xmax - xmin)) * canvas.width;
    const py = ((ymax - points.x[2 * i + 1]) / (ymax - ymin)) * canvas.height;
    const [r, g, b] = CLASS_COLORS[points.y[i]];
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.strokeStyle = 'white';
    context.lineWidth = 1;
    context.beginPath();
    context.arc(px, py, 3, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  }
}

/** A pad to draw on with mouse, pen or finger; calls `changed` after each stroke. */
export function digitPad(canvas: HTMLCanvasElement, changed: () => void): { clear(): void } {
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) throw new Error('no 2-D canvas context');
  const clear = () => {
    context.fillStyle = 'black';
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let last: [number, number] | undefined;
  const at = (event: PointerEvent): [number, number] => {
    const rect = canvas.getBoundingClientRect();
    return [
      ((event.clientX - rect.left) / rect.width) * canvas.width,
      ((event.clientY - rect.top) / rect.height) * canvas.height,
    ];
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (last === undefined) return;
    const next = at(event);
    context.strokeStyle = 'white';
    context.lineWidth = canvas.width / 14;
    context.lineCap = 'round';
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
  });
  const end = () => {
    if (last === undefined) return;
    last = undefined;
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear };
}

/**
 * The drawing as MNIST prepares its digits: the ink's bounding box scaled to fit 20×20 and
 * centred in 28×28, pixels in [0, 1]. All zeros when nothing is drawn.
 */
export function readDigit(canvas: HTMLCanvasElement): Float32Array {
  const pixels = new Float32Array(28 * 28);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) return pixels;
  const { width, height } = canvas;
  const ink = context.getImageData(0, 0, width, height).data;
  let [left, right, top, bottom] = [width, -1, height, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[(y * width + x) * 4] > 0) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return pixels;
  const side = Math.max(right - left, bottom - top) + 1;
  const small = new OffscreenCanvas(28, 28);
  const target = small.getContext('2d');
  if (target === null) return pixels;
  const scale = 20 / side;
  const [w, h] = [(right - left + 1) * scale, (bottom - top + 1) * scale];
  target.drawImage(canvas, left, top, right - left + 1, bottom - top + 1, (28 - w) / 2, (28 - h) / 2, w, h);
  const scaled = target.getImageData(0, 0, 28, 28).data;
  for (let i = 0; i < pixels.length; i++) pixels[i] = scaled[i * 4] / 255;
  return pixels;
}
