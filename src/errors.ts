// Errors caused by what a user gave (a bad file, flag or model directory) rather than by a bug. The CLI prints
// their message alone, without a stack trace, and exits non-zero.
export class ToolkitError extends Error {
  override name = 'ToolkitError';
}

export function isUserError(e: unknown): boolean {
  return e instanceof ToolkitError;
}
