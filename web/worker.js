// The page's model, in a Web Worker so that the page stays responsive while it works. Messages are those of
// createPageHandler (src/browser/index.ts): { id, type: 'load', url, backend } → { id, ok, kind, weights, backend, … };
// { id, type: 'translate' | 'classify' | 'generate' | 'forecast', … } → { id, ok, … }; failures → { id, ok: false, error }.
import { createPageHandler } from './translate.js';

// The backend is chosen once, before the first model (tfjs's wasm binaries are served at wasm/).
const handle = createPageHandler(new URL('wasm/', self.location.href).href);

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, ok: true, ...(await handle(data)) });
  } catch (e) {
    self.postMessage({ id: data.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
