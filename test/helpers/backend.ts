// Tests run on the backend users without native TensorFlow get: wasm (TRANSLATE_BACKEND overrides), with its
// matrix products on OpenBLAS when it is installed, as for users (TRANSLATE_BLAS=none runs the wasm kernels: .ci/run
// runs the kernel and training tests that way too).
import { selectBackend, parseBackendChoice } from '../../src/backend/select.js';

export async function useTestBackend(): Promise<string> {
  const info = await selectBackend(parseBackendChoice(process.env['TRANSLATE_BACKEND'] ?? 'wasm'));
  return info.tfName;
}
