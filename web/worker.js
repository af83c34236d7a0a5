// The page's translator, in a Web Worker so that the page stays responsive while it translates. Messages:
// { id, type: 'load', url, backend: 'wasm' | 'cpu' } → { id, ok, weights, backend, info }; { id, type: 'translate', lines, options } →
// { id, ok, results: [{ text, sourceTokens, unknownTokens, replacedUnknown, nBest: [{ text, score, tokens, attention }] }] }; failures → { id, ok: false, error }.
import { loadTranslator, currentBackend, useBackend } from './translate.js';

let translator;
let currentModelCount = 0;

async function handle(message) {
  if (message.type === 'load') {
    translator?.dispose();
    translator = undefined;
    // The backend is chosen once, before the first model (tfjs's wasm binaries are served at wasm/).
    if (message.backend !== undefined && currentModelCount++ === 0)
      await useBackend(message.backend, new URL('wasm/', self.location.href).href);
    translator = await loadTranslator(message.url);
    return { weights: translator.model.params.count(), backend: currentBackend(), info: translator.info };
  }
  if (message.type === 'translate') {
    if (translator === undefined) throw new Error('no model loaded');
    const results = translator.translate(message.lines, message.options);
    return {
      results: results.map((r) => ({
        text: r.text,
        sourceTokens: r.sourceTokens,
        unknownTokens: r.unknownTokens,
        replacedUnknown: r.replacedUnknown,
        nBest: r.nBest.map((h) => ({ text: h.text, score: h.score, tokens: h.tokens, attention: h.attention })),
      })),
    };
  }
  throw new Error(`unknown message ${message.type}`);
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, ok: true, ...(await handle(data)) });
  } catch (e) {
    self.postMessage({ id: data.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
