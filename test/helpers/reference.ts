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
