// Which recurrent cell a layer uses, and the shapes that follow from it. The cells themselves are gru.ts,
// lstm.ts and basicRnn.ts; rnn.ts runs any of them over time.
import { finiteProblem, oneOfProblem } from '../model/configChecks.js';

export type CellKind = 'gru' | 'lstm' | 'rnn';
export const CELL_KINDS: readonly CellKind[] = ['gru', 'lstm', 'rnn'];

export interface CellOptions {
  /** 'gru' (default), 'lstm' or 'rnn' (the basic tanh/relu cell). */
  kind: CellKind;
  /** LSTM: added to the forget gate's pre-activation, as TF's forget_bias (default 1). */
  forgetBias: number;
  /** LSTM: peephole connections from the cell state to the gates (default false). */
  peepholes: boolean;
  /** Basic RNN: 'tanh' (default) or 'relu'. */
  activation: 'tanh' | 'relu';
}

export const DEFAULT_CELL: CellOptions = { kind: 'gru', forgetBias: 1, peepholes: false, activation: 'tanh' };

/** The first field of `cell` out of range, as "cell.<field> must …, got …", or null (configChecks.ts). */
export function cellProblem(cell: CellOptions, name = 'cell'): string | null {
  return (
    oneOfProblem(`${name}.kind`, cell.kind, CELL_KINDS) ??
    finiteProblem(`${name}.forgetBias`, cell.forgetBias) ??
    oneOfProblem(`${name}.peepholes`, cell.peepholes, [true, false]) ??
    oneOfProblem(`${name}.activation`, cell.activation, ['tanh', 'relu'])
  );
}

/** Gate blocks of the input projection: xp is [time·batch, gates·H]. */
export function cellGates(kind: CellKind): number {
  return kind === 'gru' ? 3 : kind === 'lstm' ? 4 : 1;
}

/** H-wide blocks in the carried state: the LSTM carries [h | c], the others h. */
export function stateBlocks(kind: CellKind): number {
  return kind === 'lstm' ? 2 : 1;
}
