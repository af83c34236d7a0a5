// Per-column scaling of real-valued inputs: fitted on the training rows only (statistics of the test rows would leak
// into training), applied to everything, inverted on the model's predictions, and saved beside the model as JSON.
//
//   standard  y = (x − mean) / std              (population std)
//   minmax    y = lo + (x − min) / (max − min) · (hi − lo)
//
// Both are y = (x − center) / scale + offset, which is what transform and inverse compute.
import { ToolkitError } from '../../errors.js';

export type ScalerKind = 'standard' | 'minmax';

export interface ScalerOptions {
  /** 'standard' (zero mean, unit variance) or 'minmax' (into `range`) (default 'standard'). */
  kind?: ScalerKind;
  /** Target interval of 'minmax' (default [0, 1]). */
  range?: readonly [number, number];
}

export interface ScalerJson {
  format: 'seq2seq-ts/scaler@1';
  kind: ScalerKind;
  /** minmax only. */
  range?: [number, number];
  /** Per column: standard → mean and std; minmax → min and max. */
  columns: { mean?: number; std?: number; min?: number; max?: number }[];
}

export class ScalerError extends ToolkitError {
  override name = 'ScalerError';
}

export class Scaler {
  private readonly center: Float64Array;
  private readonly scale: Float64Array;
  private readonly offset: number;

  private constructor(
    readonly kind: ScalerKind,
    private readonly stats: readonly { a: number; b: number }[],
    readonly range: readonly [number, number],
  ) {
    const C = stats.length;
    this.center = new Float64Array(C);
    this.scale = new Float64Array(C);
    this.offset = kind === 'minmax' ? range[0] : 0;
    stats.forEach(({ a, b }, c) => {
      this.center[c] = a;
      const spread = kind === 'standard' ? b : (b - a) / (range[1] - range[0]);
      // A constant column has no spread: shift it only, rather than divide by zero.
      this.scale[c] = spread > 0 ? spread : 1;
    });
  }

  /** Fits one scaler per column (e.g. TimeSeries.columns, or only its training rows). */
  static fit(columns: readonly ArrayLike<number>[], options: ScalerOptions = {}): Scaler {
    const kind = options.kind ?? 'standard';
    const range = options.range ?? [0, 1];
    if (kind !== 'standard' && kind !== 'minmax')
      throw new ScalerError(`unknown scaler kind ${JSON.stringify(kind)} (expected standard or minmax)`);
    if (!(range[1] > range[0]))
      throw new ScalerError(`minmax range must be increasing, got [${range[0]}, ${range[1]}]`);
    if (columns.length === 0) throw new ScalerError('cannot fit a scaler on no columns');
    const stats = columns.map((col, c) => {
      if (col.length === 0) throw new ScalerError(`cannot fit a scaler on column ${c}: it has no values`);
      for (let i = 0; i < col.length; i++)
        if (!Number.isFinite(col[i]!))
          throw new ScalerError(`column ${c} value ${i} is ${col[i]}, not a finite number`);
      if (kind === 'minmax') {
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < col.length; i++) {
          min = Math.min(min, col[i]!);
          max = Math.max(max, col[i]!);
        }
        return { a: min, b: max };
      }
      let sum = 0;
      for (let i = 0; i < col.length; i++) sum += col[i]!;
      const mean = sum / col.length;
      let sq = 0;
      for (let i = 0; i < col.length; i++) sq += (col[i]! - mean) ** 2;
      return { a: mean, b: Math.sqrt(sq / col.length) };
    });
    return new Scaler(kind, stats, [range[0], range[1]]);
  }

  get columns(): number {
    return this.stats.length;
  }

  /** Scales one value of column `column`. */
  transformValue(x: number, column = 0): number {
    this.check(column);
    return (x - this.center[column]!) / this.scale[column]! + this.offset;
  }

  /** Undoes transformValue. */
  inverseValue(y: number, column = 0): number {
    this.check(column);
    return (y - this.offset) * this.scale[column]! + this.center[column]!;
  }

  /** Scales every value of one column's array. */
  transform(values: ArrayLike<number>, column = 0): Float64Array {
    return Float64Array.from(values, (x) => this.transformValue(x, column));
  }

  inverse(values: ArrayLike<number>, column = 0): Float64Array {
    return Float64Array.from(values, (y) => this.inverseValue(y, column));
  }

  /**
   * Scales a step-major array whose position i holds column `columns[i % columns.length]` — a window [steps · F] or
   * a forecast [k · targets]. `columns` defaults to all columns in order.
   */
  transformInterleaved(values: Float32Array, columns?: readonly number[]): Float32Array {
    const cols = columns ?? this.allColumns();
    this.checkInterleaved(values, cols);
    return values.map((x, i) => this.transformValue(x, cols[i % cols.length]));
  }

  inverseInterleaved(values: Float32Array, columns?: readonly number[]): Float32Array {
    const cols = columns ?? this.allColumns();
    this.checkInterleaved(values, cols);
    return values.map((y, i) => this.inverseValue(y, cols[i % cols.length]));
  }

  toJSON(): ScalerJson {
    const columns = this.stats.map(({ a, b }) => (this.kind === 'standard' ? { mean: a, std: b } : { min: a, max: b }));
    return this.kind === 'standard'
      ? { format: 'seq2seq-ts/scaler@1', kind: 'standard', columns }
      : { format: 'seq2seq-ts/scaler@1', kind: 'minmax', range: [this.range[0], this.range[1]], columns };
  }

  /** Rebuilds a scaler saved with toJSON; `source` names the file in errors. */
  static fromJSON(json: unknown, source = 'scaler'): Scaler {
    const j = json as Partial<ScalerJson> | null;
    if (j === null || typeof j !== 'object' || j.format !== 'seq2seq-ts/scaler@1')
      throw new ScalerError(`${source}: not a seq2seq-ts scaler (expected "format": "seq2seq-ts/scaler@1")`);
    if (j.kind !== 'standard' && j.kind !== 'minmax')
      throw new ScalerError(`${source}: unknown scaler kind ${JSON.stringify(j.kind)} (expected standard or minmax)`);
    if (!Array.isArray(j.columns) || j.columns.length === 0)
      throw new ScalerError(`${source}: "columns" must be a non-empty array`);
    const [ka, kb] = j.kind === 'standard' ? (['mean', 'std'] as const) : (['min', 'max'] as const);
    const stats = j.columns.map((c, i) => {
      const a = (c as Record<string, unknown> | null)?.[ka];
      const b = (c as Record<string, unknown> | null)?.[kb];
      if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) {
        throw new ScalerError(`${source}: column ${i} needs finite numbers "${ka}" and "${kb}"`);
      }
      return { a, b };
    });
    let range: [number, number] = [0, 1];
    if (j.kind === 'minmax') {
      if (
        !Array.isArray(j.range) ||
        j.range.length !== 2 ||
        !j.range.every((x) => typeof x === 'number') ||
        !(j.range[1] > j.range[0])
      ) {
        throw new ScalerError(`${source}: minmax "range" must be two increasing numbers`);
      }
      range = [j.range[0], j.range[1]];
    }
    return new Scaler(j.kind, stats, range);
  }

  private allColumns(): number[] {
    return this.stats.map((_, c) => c);
  }

  private check(column: number): void {
    if (!(Number.isInteger(column) && column >= 0 && column < this.stats.length))
      throw new ScalerError(`column ${column} is not one of the scaler's ${this.stats.length} columns`);
  }

  private checkInterleaved(values: Float32Array, columns: readonly number[]): void {
    if (columns.length === 0 || values.length % columns.length !== 0)
      throw new ScalerError(`${values.length} values do not divide into steps of ${columns.length} columns`);
  }
}
