// A request the server refuses: its HTTP status, the message sent back and the field at fault.
import { ToolkitError } from '../errors.js';

export class RequestError extends ToolkitError {
  override name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
