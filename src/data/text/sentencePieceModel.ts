// The piece list of a SentencePiece .model file, read straight from its protocol buffer (sentencepiece_model.proto:
// `ModelProto { repeated SentencePiece pieces = 1; … }`, `SentencePiece { string piece = 1; float score = 2;
// Type type = 3; }`). sentencepiece-js exposes no piece table, and a translation model's vocabulary must hold every
// piece the tokenizer can produce: otherwise a valid piece seen rarely or never in training becomes "unknown".
import { ToolkitError } from '../../errors.js';

export class SentencePieceModelError extends ToolkitError {
  override name = 'SentencePieceModelError';
}

/** SentencePiece's piece types (sentencepiece_model.proto). */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user-defined' | 'unused' | 'byte';
const PIECE_TYPES: Record<number, PieceType> = {
  1: 'normal',
  2: 'unknown',
  3: 'control',
  4: 'user-defined',
  5: 'unused',
  6: 'byte',
};

export interface Piece {
  piece: string;
  type: PieceType;
}

/** Reads the pieces of a serialized ModelProto in id order. Throws SentencePieceModelError on malformed bytes. */
export function readSentencePiecePieces(bytes: Uint8Array, where = 'SentencePiece model'): Piece[] {
  const pieces: Piece[] = [];
  const r = new Reader(bytes, where);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) pieces.push(readPiece(r.sub(), where));
    else r.skip(wire);
  }
  if (pieces.length === 0) throw new SentencePieceModelError(`${where}: no pieces (not a SentencePiece model)`);
  return pieces;
}

/**
 * The pieces `encodePieces` can emit: normal, user-defined and byte pieces, and the unknown piece (text outside
 * the model's characters, when it has no byte fallback). Control pieces (<s>, </s>) and unused ones never appear.
 */
export function produciblePieces(pieces: readonly Piece[]): string[] {
  return pieces
    .filter((p) => p.type === 'normal' || p.type === 'user-defined' || p.type === 'byte' || p.type === 'unknown')
    .map((p) => p.piece);
}

function readPiece(r: Reader, where: string): Piece {
  let piece: string | undefined;
  let type: PieceType = 'normal';
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) piece = new TextDecoder('utf-8', { fatal: false }).decode(r.bytes());
    else if (field === 3 && wire === 0) type = PIECE_TYPES[r.varint()] ?? 'normal';
    else r.skip(wire);
  }
  if (piece === undefined) throw new SentencePieceModelError(`${where}: a piece without text`);
  return { piece, type };
}

/** A minimal protocol-buffer reader: varints, length-delimited fields and skipping, with bounds checks. */
class Reader {
  private pos: number;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw this.error('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw this.error('varint too long');
    }
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > this.end - this.pos) throw this.error('length past the end');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  sub(): Reader {
    const b = this.bytes();
    return new Reader(
      this.buf,
      this.where,
      b.byteOffset - this.buf.byteOffset,
      b.byteOffset - this.buf.byteOffset + b.length,
    );
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.advance(4);
    else throw this.error(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw this.error('field past the end');
    this.pos += n;
  }

  private error(what: string): SentencePieceModelError {
    return new SentencePieceModelError(`${this.where}: not a SentencePiece model (${what} at byte ${this.pos})`);
  }
}
