// Translation as a running batch (continuous batching, for a server): lines join between decoder steps and leave as
// soon as their translation is done, instead of waiting for the longest line of a fixed batch. Each line gets the
// translation `Translator.translate` gives it (to float rounding): the same tokens, length limit, search and output,
// whatever it runs beside.
import { makeSourceBatch, sourcePositions } from '../data/text/batch.js';
import { BeamSession, DEFAULT_LENGTH_PENALTY } from '../search/beam.js';
import { checkTexts } from '../data/text/tokenizer.js';
import { checkTranslateOptions, type TranslateOptions, type Translation, type Translator } from './translator.js';
import type { AttentionToKeep } from './batchedSearch.js';

/** A line the stream has finished: its index (the order lines were added in, from 0) and its translation. */
export interface StreamedTranslation {
  index: number;
  translation: Translation;
}

interface Line {
  index: number;
  result: Translation;
}

export class TranslationStream {
  private readonly session: BeamSession<unknown, unknown>;
  private readonly attention: AttentionToKeep;
  /** Lines in the search, by the session's sentence id. */
  private readonly searching = new Map<number, Line>();
  /** Empty lines, answered at the next step. */
  private ready: StreamedTranslation[] = [];
  private added = 0;

  /**
   * `options` as for Translator.translate (beam size, n-best, length penalty, length limits, alignments, <unk>
   * replacement); one beam and one hypothesis is greedy decoding, as there. `batchSize` does not apply: the caller
   * decides how many lines run at once.
   */
  constructor(
    private readonly translator: Translator,
    private readonly options: TranslateOptions = {},
  ) {
    checkTranslateOptions(options);
    const beamSize = options.beamSize ?? 1;
    const nBest = options.nBest ?? 1;
    this.attention = translator.attentionToKeep(options);
    // One beam follows the greedy path; α = 0 then scores by the log-prob, as greedy decoding does.
    const greedy = beamSize === 1 && nBest === 1;
    this.session = new BeamSession(translator.decodable, {
      beamSize,
      nBest,
      lengthPenalty: greedy ? 0 : (options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY),
      // A non-empty source never translates to nothing: EOS is not a candidate for the first token.
      minLength: 1,
      ...(this.attention === 'none' ? {} : { attention: { weights: this.attention === 'weights' } }),
    });
  }

  /** Lines added and not yet returned by `step`. */
  get live(): number {
    return this.session.live + this.ready.length;
  }

  /** Lines in the decoder batch: what a step costs. */
  get size(): number {
    return this.session.size;
  }

  /** Takes lines into the stream (they join the search before the next step); returns the index of the first. */
  add(lines: readonly string[]): number {
    checkTexts(lines);
    const first = this.added;
    const work: Line[] = [];
    const sources: number[][] = [];
    lines.forEach((line, k) => {
      const { result, ids } = this.translator.prepare(line);
      const entry = { index: first + k, result };
      if (ids === null) this.ready.push({ index: entry.index, translation: result });
      else {
        work.push(entry);
        sources.push(ids);
      }
    });
    this.added += lines.length;
    if (work.length === 0) return first;
    const reverseSource = this.translator.model.config.reverseSource;
    const batch = makeSourceBatch(sources, { reverseSource });
    const id = this.session.add(
      batch,
      sources.map((s) => this.translator.maxLength(s.length, this.options)),
      this.attention === 'none' ? undefined : work.map((_, b) => sourcePositions(batch, b, reverseSource)),
    );
    work.forEach((line, b) => this.searching.set(id + b, line));
    return first;
  }

  /** One decoder step; returns the lines it finished (and any empty lines added since the last step). */
  step(): StreamedTranslation[] {
    const out = this.ready;
    this.ready = [];
    for (const { id, hypotheses } of this.session.step()) {
      const line = this.searching.get(id)!;
      this.searching.delete(id);
      this.translator.complete(line.result, hypotheses, this.options);
      out.push({ index: line.index, translation: line.result });
    }
    return out;
  }

  /** Drops a line not yet returned (its request gone): it stops running, and `step` does not return it. */
  drop(index: number): void {
    this.ready = this.ready.filter((r) => r.index !== index);
    for (const [id, line] of this.searching)
      if (line.index === index) {
        this.searching.delete(id);
        this.session.drop(id);
      }
  }

  /** Frees what the search holds; lines not yet returned are dropped. */
  dispose(): void {
    this.session.dispose();
    this.searching.clear();
    this.ready = [];
  }
}
