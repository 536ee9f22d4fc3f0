import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { encodeDigits } from './src/digits.js';

// SharedArrayBuffer, and so the backend's worker threads, needs a cross-origin isolated page:
// every response carries these two headers (a static host must send them too; see README).
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

type DataNode = typeof import('@tsgrad/data/node');

/** Serves (dev) and emits (build) `mnist-digits.bin`: the `mnist` package's digits, packed. */
function packagedDigits(data: () => Promise<DataNode>): Plugin {
  let bytes: Promise<Uint8Array> | undefined;
  const pack = async () => {
    const { mnistDigits } = await data();
    const { images, labels } = mnistDigits({ flatten: true });
    return encodeDigits(images.toTypedArray() as Float32Array, labels.toTypedArray() as Int32Array);
  };
  const digits = () => {
    bytes ??= pack();
    return bytes;
  };
  return {
    name: 'playground-digits',
    configureServer(server) {
      server.middlewares.use('/mnist-digits.bin', (_request, response, next) => {
        digits().then((body) => {
          response.setHeader('content-type', 'application/octet-stream');
          response.end(body);
        }, next);
      });
    },
    async generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'mnist-digits.bin', source: await digits() });
    },
  };
}

/** The page's config; `data` loads `@tsgrad/data/node` (a test passes its own, resolving sources). */
export const playgroundConfig = (data: () => Promise<DataNode>): UserConfig => ({
  base: './',
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  plugins: [packagedDigits(data)],
});

export default defineConfig(playgroundConfig(() => import('@tsgrad/data/node')));
