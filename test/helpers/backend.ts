// Tests run on the backend users without native TensorFlow get: wasm (TRANSLATE_BACKEND overrides).
import { selectBackend, parseBackendChoice } from '../../src/backend/select.js';

export async function useTestBackend(): Promise<string> {
  const info = await selectBackend(parseBackendChoice(process.env['TRANSLATE_BACKEND'] ?? 'wasm'));
  return info.tfName;
}
