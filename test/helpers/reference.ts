// Independent float64 reference implementations, written from the equations, for checking tensors against.

export type Mat = number[][];

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function matVec(x: number[], W: Mat): number[] {
  // x: [in], W: [in][out] → [out]
  const out = new Array<number>(W[0]!.length).fill(0);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < out.length; j++) out[j]! += x[i]! * W[i]![j]!;
  return out;
}

/** One GRU step (reset-after form) for one sequence. W: [D][3H], U: [H][3H], b, c: [3H]. */
export function gruStepRef(x: number[], h: number[], W: Mat, U: Mat, b: number[], c: number[]): number[] {
  const H = h.length;
  const xw = matVec(x, W).map((v, i) => v + b[i]!);
  const hu = matVec(h, U).map((v, i) => v + c[i]!);
  const out: number[] = [];
  for (let j = 0; j < H; j++) {
    const r = sigmoid(xw[j]! + hu[j]!);
    const z = sigmoid(xw[H + j]! + hu[H + j]!);
    const n = Math.tanh(xw[2 * H + j]! + r * hu[2 * H + j]!);
    out.push((1 - z) * n + z * h[j]!);
  }
  return out;
}

export function randomMat(rows: number, cols: number, rand: () => number, scale = 0.5): Mat {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rand() * 2 - 1) * scale));
}

export function flat(m: Mat): number[] {
  return m.flat();
}

/**
 * One LSTM step (TF's LSTMCell with forget bias and optional diagonal peepholes) for one sequence.
 * W: [D][4H], U: [H][4H], b, cRec: [4H] in gate order [i f g o]; peep: [3H] = [w_ci | w_cf | w_co] or null.
 */
export function lstmStepRef(
  x: number[],
  h: number[],
  c: number[],
  W: Mat,
  U: Mat,
  b: number[],
  cRec: number[],
  forgetBias: number,
  peep: number[] | null,
): { h: number[]; c: number[] } {
  const H = h.length;
  const xw = matVec(x, W);
  const hu = matVec(h, U);
  const a = xw.map((v, k) => v + b[k]! + hu[k]! + cRec[k]!);
  const hNew: number[] = [];
  const cNew: number[] = [];
  for (let j = 0; j < H; j++) {
    const wci = peep === null ? 0 : peep[j]!;
    const wcf = peep === null ? 0 : peep[H + j]!;
    const wco = peep === null ? 0 : peep[2 * H + j]!;
    const i = sigmoid(a[j]! + wci * c[j]!);
    const f = sigmoid(a[H + j]! + forgetBias + wcf * c[j]!);
    const g = Math.tanh(a[2 * H + j]!);
    const cj = f * c[j]! + i * g;
    const o = sigmoid(a[3 * H + j]! + wco * cj);
    cNew.push(cj);
    hNew.push(o * Math.tanh(cj));
  }
  return { h: hNew, c: cNew };
}

/** One basic RNN step h' = act(x W + b + h U + c) for one sequence. W: [D][H], U: [H][H], b, c: [H]. */
export function rnnStepRef(
  x: number[],
  h: number[],
  W: Mat,
  U: Mat,
  b: number[],
  c: number[],
  activation: 'tanh' | 'relu',
): number[] {
  const xw = matVec(x, W);
  const hu = matVec(h, U);
  return xw.map((v, j) => {
    const pre = v + b[j]! + hu[j]! + c[j]!;
    return activation === 'relu' ? Math.max(0, pre) : Math.tanh(pre);
  });
}
