import { describe, it, expect } from 'vitest';
import { bleuFromStatistics, corpusBleu, formatBleu, sentenceBleu } from '../../src/metrics/bleu.js';
import { MetricInputError } from '../../src/metrics/references.js';

// Where the expected numbers come from (none from this code):
//  - "hand": the arithmetic in the comment beside the test.
//  - "sacreBLEU": sacreBLEU 2.6.0 run from its source (github.com/mjpost/sacrebleu at f615c72; Debian has no
//    python3-sacrebleu package) with Debian's python3 3.11, e.g.
//      from sacrebleu.metrics import BLEU; s = BLEU(**kw).corpus_score(hyps, refs); print(repr(s.score), s)
//  - "NLTK": Debian's python3-nltk 3.8, on the same 13a tokens (closest reference length for the brevity penalty,
//    ties to the shorter, like sacreBLEU; method3 is the same NIST "exp" smoothing, method0 none, method1 floor 0.1,
//    method2 add-1):
//      from nltk.translate.bleu_score import corpus_bleu, SmoothingFunction
//      from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a; tok = Tokenizer13a()
//      refs = [[tok(x).split() for x in rs] for rs in zip(*streams)]; hyps_t = [tok(x).split() for x in hyps]
//      100 * corpus_bleu(refs, hyps_t, smoothing_function=SmoothingFunction().method3)

// A German→English-like system output and two independent reference translations.
const HYP = [
  'Parliament approved the new budget on Tuesday.',
  'According to police, no one was hurt in the accident.',
  'The train to Berlin had a delay of 45 minutes.',
  'She lives in Munich since 2015, but she still misses Hamburg.',
  'The prices increased by 3.5 percent in the first quarter.',
];
const REF1 = [
  'The parliament approved the new budget on Tuesday.',
  'According to the police, nobody was injured in the accident.',
  'The train to Berlin was delayed by 45 minutes.',
  'She has been living in Munich since 2015, but she still misses Hamburg.',
  'Prices rose by 3.5 percent in the first quarter.',
];
const REF2 = [
  'On Tuesday, parliament passed the new budget.',
  'Police said no one was hurt in the accident.',
  'The train to Berlin was 45 minutes late.',
  'She has lived in Munich since 2015 but still misses Hamburg.',
  'In the first quarter, prices increased by 3.5 percent.',
];

describe('corpusBleu on a realistic German→English example', () => {
  it('matches sacreBLEU and NLTK with one reference', () => {
    const r = corpusBleu(HYP, [REF1]);
    // sacreBLEU: 59.65150951751411; NLTK method3: 59.65150951751416
    expect(r.score).toBeCloseTo(59.65150951751411, 9);
    expect(r.counts).toEqual([43, 33, 25, 19]);
    expect(r.totals).toEqual([55, 50, 45, 40]);
    expect(r.sysLen).toBe(55);
    expect(r.refLen).toBe(56);
    expect(formatBleu(r)).toBe('BLEU = 59.65 78.2/66.0/55.6/47.5 (BP = 0.982 ratio = 0.982 hyp_len = 55 ref_len = 56)');
  });

  it('gives the same score under every smoothing when every order has matches, except add-k', () => {
    // sacreBLEU none/floor: 59.65150951751411 (NLTK method0/method1: 59.65150951751416)
    expect(corpusBleu(HYP, [REF1], { smooth: 'none' }).score).toBeCloseTo(59.65150951751411, 9);
    expect(corpusBleu(HYP, [REF1], { smooth: 'floor' }).score).toBeCloseTo(59.65150951751411, 9);
    // sacreBLEU add-k: 60.460645180488825 (NLTK method2: 60.46064518048884); k is added to orders 2..4 regardless.
    const addK = corpusBleu(HYP, [REF1], { smooth: 'add-k' });
    expect(addK.score).toBeCloseTo(60.460645180488825, 9);
    expect(formatBleu(addK)).toBe(
      'BLEU = 60.46 78.2/66.7/56.5/48.8 (BP = 0.982 ratio = 0.982 hyp_len = 55 ref_len = 56)',
    );
  });

  it('lowercases when asked', () => {
    // sacreBLEU lowercase=True: 62.17647984298739
    const r = corpusBleu(HYP, [REF1], { lowercase: true });
    expect(r.score).toBeCloseTo(62.17647984298739, 9);
    expect(formatBleu(r)).toBe('BLEU = 62.18 81.8/68.0/57.8/50.0 (BP = 0.982 ratio = 0.982 hyp_len = 55 ref_len = 56)');
  });

  it('matches sacreBLEU and NLTK with two references, in either stream order', () => {
    // sacreBLEU: 73.57844190650178 (same with the streams swapped); NLTK method3: 73.57844190650177
    const r = corpusBleu(HYP, [REF1, REF2]);
    expect(r.score).toBeCloseTo(73.57844190650178, 9);
    expect(r.counts).toEqual([48, 39, 31, 25]);
    expect(r.refLen).toBe(54);
    expect(formatBleu(r)).toBe('BLEU = 73.58 87.3/78.0/68.9/62.5 (BP = 1.000 ratio = 1.019 hyp_len = 55 ref_len = 54)');
    expect(corpusBleu(HYP, [REF2, REF1]).score).toBeCloseTo(73.57844190650178, 9);
  });
});

describe('corpusBleu smoothing on a small example', () => {
  // "the cat sat on the mat" against "the cat is on the mat" (tokenize 'none'), by hand:
  //   1-grams: the×2 cat on mat match, sat does not   → 5/6
  //   2-grams: "the cat" "on the" "the mat" match     → 3/5
  //   3-grams: only "on the mat"                       → 1/4
  //   4-grams: none of 3                               → 0/3
  //   lengths 6 and 6, so BP = 1.
  const hyp = ['the cat sat on the mat'];
  const refs = [['the cat is on the mat']];

  it('exp: the first order without matches gets 1/(2·total)', () => {
    // 5/6 · 3/5 · 1/4 · 1/(2·3) = 1/48; 100 · 48^(-1/4) = 37.9918  (sacreBLEU 37.99178428257963; NLTK method3 the same)
    const r = corpusBleu(hyp, refs, { tokenize: 'none' });
    expect(r.score).toBeCloseTo(100 * 48 ** -0.25, 10);
    expect(r.score).toBeCloseTo(37.99178428257963, 10);
    expect(r.precisions[3]).toBeCloseTo(100 / 6, 10);
    expect(formatBleu(r)).toBe('BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)');
  });

  it('none: one order without matches makes the score 0', () => {
    // sacreBLEU 0.0 (its log(0) stand-in drives the mean to 0; NLTK method0 gives 7.3e-76, the same in effect)
    const r = corpusBleu(hyp, refs, { tokenize: 'none', smooth: 'none' });
    expect(r.score).toBe(0);
    expect(formatBleu(r)).toBe('BLEU = 0.00 83.3/60.0/25.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)');
  });

  it('floor: 0.1 matches instead of 0', () => {
    // 5/6 · 3/5 · 1/4 · 0.1/3 = 1/240; 100 · 240^(-1/4) = 25.4066  (sacreBLEU 25.40663740773073; NLTK method1 the same)
    const r = corpusBleu(hyp, refs, { tokenize: 'none', smooth: 'floor' });
    expect(r.score).toBeCloseTo(100 * 240 ** -0.25, 10);
    expect(corpusBleu(hyp, refs, { tokenize: 'none', smooth: 'floor', smoothValue: 0.1 }).score).toBeCloseTo(
      r.score,
      12,
    );
  });

  it('add-k: 1 added to matches and totals of orders 2 and up', () => {
    // 5/6 · 4/6 · 2/5 · 1/4 = 1/18; 100 · 18^(-1/4) = 48.5492  (sacreBLEU 48.54917717073236; NLTK method2 the same)
    const r = corpusBleu(hyp, refs, { tokenize: 'none', smooth: 'add-k' });
    expect(r.score).toBeCloseTo(100 * 18 ** -0.25, 10);
    expect(r.counts).toEqual([5, 3, 1, 0]); // the raw counts, not the smoothed ones
  });

  it('exp smoothing doubles the divisor for each further order without matches', () => {
    // "the dog barks loudly" vs "the cat sat": 1/4, then 1/(2·3), 1/(4·2), 1/(8·1);
    // product 1/1536, 100 · 1536^(-1/4) = 15.9736; ref 3 < hyp 4 so BP = 1  (sacreBLEU 15.97357760615681)
    const r = corpusBleu(['the dog barks loudly'], [['the cat sat']]);
    expect(r.score).toBeCloseTo(100 * 1536 ** -0.25, 10);
    expect(formatBleu(r)).toBe('BLEU = 15.97 25.0/16.7/12.5/12.5 (BP = 1.000 ratio = 1.333 hyp_len = 4 ref_len = 3)');
  });
});

describe('corpusBleu edge cases', () => {
  it('scores 0 under every smoothing when nothing matches', () => {
    // sacreBLEU returns 0 before smoothing when no n-gram of any order matches (its issue #141).
    for (const smooth of ['exp', 'none', 'floor', 'add-k'] as const) {
      const r = corpusBleu(['dog barks loudly'], [['the cat sat']], { smooth });
      expect(r.score).toBe(0);
      expect(formatBleu(r)).toBe('BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 3 ref_len = 3)');
    }
  });

  it('scores an empty hypothesis 0 with a brevity penalty of 0, no NaN', () => {
    // sacreBLEU: BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 2)
    const r = corpusBleu([''], [['the cat']]);
    expect(r.score).toBe(0);
    expect(r.brevityPenalty).toBe(0);
    expect(formatBleu(r)).toBe('BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 2)');
  });

  it('lets an empty hypothesis lower the corpus score only through the brevity penalty', () => {
    // "" vs "a dog" and a perfect 6-token sentence: all precisions 1, BP = exp(1 − 8/6) = 0.71653  (sacreBLEU 71.65313105737896)
    const r = corpusBleu(['', 'the cat sat on the mat'], [['a dog', 'the cat sat on the mat']]);
    expect(r.score).toBeCloseTo(100 * Math.exp(1 - 8 / 6), 10);
  });

  it('scores an empty corpus 0 without NaN (sacreBLEU itself raises here)', () => {
    const r = corpusBleu([], [[]]);
    expect(r.score).toBe(0);
    expect(r.brevityPenalty).toBe(1);
    expect(formatBleu(r)).toBe('BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 0 ref_len = 0)');
  });

  it('applies no brevity penalty to a hypothesis longer than its reference', () => {
    // 6/8 · 5/7 · 4/6 · 3/5 = 3/14; 100 · (3/14)^(1/4) = 68.0375  (sacreBLEU 68.037493331712)
    const r = corpusBleu(['the cat sat on the mat today again'], [['the cat sat on the mat']]);
    expect(r.brevityPenalty).toBe(1);
    expect(r.score).toBeCloseTo(100 * (3 / 14) ** 0.25, 10);
  });

  it('scores 0 when the corpus is too short for 4-grams, unless effective order is on', () => {
    // "the cat" vs "the cat sat on the mat": no 3-grams at all, so order 3 has precision 0 → 0 (sacreBLEU 0.0).
    expect(corpusBleu(['the cat'], [['the cat sat on the mat']]).score).toBe(0);
    // Effective order 2: precisions 1 and 1, BP = exp(1 − 6/2) = e^-2 → 13.5335  (sacreBLEU sentence_bleu 13.533528323661276)
    const r = sentenceBleu('the cat', ['the cat sat on the mat']);
    expect(r.score).toBeCloseTo(100 * Math.exp(-2), 10);
    expect(formatBleu(r)).toBe('BLEU = 13.53 100.0/100.0/0.0/0.0 (BP = 0.135 ratio = 0.333 hyp_len = 2 ref_len = 6)');
  });
});

describe('corpusBleu with multiple references', () => {
  it('clips each n-gram to the most any single reference has', () => {
    // "the the the the" vs "the cat" / "the the dog": "the" clipped to 2 → 2/4; "the the" to 1 → 1/3;
    // 3- and 4-grams 0/2 and 0/1 → exp gives 1/(2·2) and 1/(4·1). Product 1/96 → 100 · 96^(-1/4) = 31.9472.
    // Reference lengths 2 and 3; 3 is closer to 4.  (sacreBLEU 31.947155212313625, counts [2,1,0,0], totals [4,3,2,1])
    const r = corpusBleu(['the the the the'], [['the cat'], ['the the dog']]);
    expect(r.counts).toEqual([2, 1, 0, 0]);
    expect(r.totals).toEqual([4, 3, 2, 1]);
    expect(r.refLen).toBe(3);
    expect(r.score).toBeCloseTo(100 * 96 ** -0.25, 10);
  });

  it('takes the shorter reference length when two are equally close', () => {
    // hyp 5 tokens, references 3 and 7 tokens: both 2 away → 3 (sacreBLEU ref_len 3 in either order)
    expect(corpusBleu(['a b c d e'], [['a b c'], ['a b c d e f g']]).refLen).toBe(3);
    expect(corpusBleu(['a b c d e'], [['a b c d e f g'], ['a b c']]).refLen).toBe(3);
  });

  it('refuses reference streams whose length differs from the hypotheses', () => {
    expect(() => corpusBleu(['a', 'b'], [['a', 'b'], ['a']])).toThrow(MetricInputError);
    expect(() => corpusBleu(['a', 'b'], [['a', 'b'], ['a']])).toThrow(
      /reference stream 1 has 1 sentences but there are 2 hypotheses/,
    );
    expect(() => corpusBleu(['a'], [])).toThrow(MetricInputError);
  });
});

describe('formatBleu', () => {
  it("rounds exact ties to even, as Python's format does", () => {
    // Precisions 5/16, 3/16, 1/16 = 31.25, 18.75, 6.25 exactly; Python writes 31.2/18.8/6.2 (toFixed would write 6.3).
    // sacreBLEU BLEU.compute_bleu([5,3,1,1], [16,16,16,16], 16, 16, smooth_method='exp'):
    //   BLEU = 12.30 31.2/18.8/6.2/6.2 (BP = 1.000 ratio = 1.000 hyp_len = 16 ref_len = 16)
    const r = bleuFromStatistics({ sysLen: 16, refLen: 16, counts: [5, 3, 1, 1], totals: [16, 16, 16, 16] });
    expect(formatBleu(r)).toBe('BLEU = 12.30 31.2/18.8/6.2/6.2 (BP = 1.000 ratio = 1.000 hyp_len = 16 ref_len = 16)');
  });
});
