import { describe, it, expect } from 'vitest';
import { corpusChrF, sentenceChrF } from '../../src/metrics/chrf.js';
import { MetricInputError } from '../../src/metrics/references.js';

// Where the expected numbers come from (none from this code):
//  - "hand": the arithmetic in the comment beside the test.
//  - "sacreBLEU": sacreBLEU 2.6.0 run from its source (github.com/mjpost/sacrebleu at f615c72; Debian has no
//    python3-sacrebleu package) with Debian's python3 3.11:
//      from sacrebleu.metrics import CHRF; print(repr(CHRF(**kw).corpus_score(hyps, streams).score))
//  - "NLTK": Debian's python3-nltk 3.8, 100 * nltk.translate.chrf_score.sentence_chrf(ref, hyp, beta=2).
//    NLTK averages per-order F-scores with 1e-16 for undefined ones, which is sacreBLEU's eps_smoothing=True, and
//    strips whitespace the same way; it agrees with us only one sentence at a time (its corpus_chrf macro-averages
//    sentence scores where sacreBLEU sums statistics, and it takes one reference), so it is used on single sentences.

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

describe('corpusChrF by hand', () => {
  // "cat" against "cut", character orders 1..6:
  //   1-grams c a t / c u t: 2 matches of 3 and 3   → P = R = 2/3
  //   2-grams ca at / cu ut: 0 matches              → P = R = 0
  //   3-grams cat / cut: 0 matches                  → P = R = 0
  //   4..6-grams: none on either side                → left out of sacreBLEU's average
  it("averages precision and recall over the orders present, then takes one F-score (sacreBLEU's default)", () => {
    // P = R = (2/3 + 0 + 0)/3 = 2/9; F2 = 5PR/(4P + R) = 2/9 → 22.22  (sacreBLEU 22.22222222222222)
    const r = corpusChrF(['cat'], [['cut']]);
    expect(r.score).toBeCloseTo(200 / 9, 10);
    expect(r.name).toBe('chrF2');
  });

  it('averages per-order F-scores with 1e-16 for undefined ones under epsSmoothing', () => {
    // F per order: 2/3, then 0/0 → 1e-16 for orders 2 and 3, and 1e-16 for orders 4..6; (2/3 + 5e-16)/6 → 11.11
    // (sacreBLEU eps_smoothing=True 11.11111111111112; NLTK 11.111111111111121)
    expect(corpusChrF(['cat'], [['cut']], { epsSmoothing: true }).score).toBeCloseTo(100 / 9, 10);
  });

  it('removes whitespace unless told to keep it', () => {
    // "a b" and "ab" are the same once spaces go → 100 (sacreBLEU 100.0).
    expect(corpusChrF(['a b'], [['ab']]).score).toBe(100);
    // Keeping it: 1-grams a,' ',b vs a,b → P 2/3, R 1; 2-grams "a " " b" vs "ab" → 0, 0; the reference has no 3-gram,
    // so that order drops out. P = (2/3 + 0)/2 = 1/3, R = (1 + 0)/2 = 1/2, F2 = (5/6)/(11/6) = 5/11 → 45.45
    // (sacreBLEU whitespace=True 45.45454545454545)
    expect(corpusChrF(['a b'], [['ab']], { whitespace: true }).score).toBeCloseTo(500 / 11, 10);
  });
});

describe('corpusChrF edge cases', () => {
  it('scores an empty hypothesis 0', () => {
    // No hypothesis n-grams: no order counts, so 0 (sacreBLEU 0.0). With eps smoothing orders 1..3 score
    // 0 and orders 4..6 score 1e-16 each: 100 · 3e-16 / 6 = 5e-15 (sacreBLEU 5e-15).
    expect(corpusChrF([''], [['abc']]).score).toBe(0);
    expect(corpusChrF([''], [['abc']], { epsSmoothing: true }).score).toBeCloseTo(5e-15, 20);
  });

  it('scores an empty corpus 0 without NaN (sacreBLEU itself raises here)', () => {
    expect(corpusChrF([], [[]]).score).toBe(0);
    expect(Number.isNaN(corpusChrF([], [[]], { epsSmoothing: true }).score)).toBe(false);
  });

  it('scores a hypothesis sharing no character with its reference 0', () => {
    expect(corpusChrF(['xyz'], [['abc']]).score).toBe(0);
  });

  it('refuses reference streams whose length differs from the hypotheses', () => {
    expect(() => corpusChrF(['a', 'b'], [['a']])).toThrow(MetricInputError);
  });
});

describe('corpusChrF with multiple references', () => {
  it('keeps, per sentence, the reference with the best F-score, then sums statistics over the corpus', () => {
    // A perfect second reference wins outright (sacreBLEU 100.0).
    expect(corpusChrF(['cat'], [['dog'], ['cat']]).score).toBe(100);
    // Sentence 2, "adog" (spaces removed): against "thedog" orders 1..4 give [hyp, ref, match] = [4,6,3] [3,5,2]
    // [2,4,1] [1,3,0], and 5, 6 give [0,2,0] [0,1,0]: P = (3/4+2/3+1/2+0)/4, R = (3/6+2/5+1/4+0)/4, F2 = 0.3125.
    // Against "acat": 1 match of 4 unigrams, nothing longer, F2 = 1/16. So "the dog" is kept.
    // Corpus sums with sentence 1 ("cat" = "cat": [3,3,3] [2,2,2] [1,1,1]):
    //   [7,9,6] [5,7,4] [3,5,2] [1,3,0] [0,2,0] [0,1,0]
    //   P = (6/7 + 4/5 + 2/3 + 0)/4 = 0.580952, R = (6/9 + 4/7 + 2/5 + 0)/4 = 0.409524
    //   F2 = 5PR/(4P + R) = 0.435208  (sacreBLEU 43.52082296333167)
    const r = corpusChrF(
      ['cat', 'a dog'],
      [
        ['dog', 'the dog'],
        ['cat', 'a cat'],
      ],
    );
    const P = (6 / 7 + 4 / 5 + 2 / 3) / 4;
    const R = (6 / 9 + 4 / 7 + 2 / 5) / 4;
    expect(r.score).toBeCloseTo((100 * 5 * P * R) / (4 * P + R), 10);
    expect(r.score).toBeCloseTo(43.52082296333167, 10);
  });
});

describe('corpusChrF on a realistic German→English example', () => {
  it('matches sacreBLEU chrF2 with one and two references', () => {
    expect(corpusChrF(HYP, [REF1]).score).toBeCloseTo(74.88500296464044, 9);
    expect(corpusChrF(HYP, [REF1, REF2]).score).toBeCloseTo(79.94407206308766, 9);
  });

  it('matches sacreBLEU chrF2++ (word orders 1 and 2)', () => {
    const one = corpusChrF(HYP, [REF1], { wordOrder: 2 });
    expect(one.score).toBeCloseTo(73.91869463816721, 9);
    expect(one.name).toBe('chrF2++');
    expect(corpusChrF(HYP, [REF1, REF2], { wordOrder: 2 }).score).toBeCloseTo(78.23098604859908, 9);
    // chrF++'s word split takes the final period off "sat." (sacreBLEU 62.81244938950311).
    expect(corpusChrF(['the cat sat.'], [['the cat sat down.']], { wordOrder: 2 }).score).toBeCloseTo(
      62.81244938950311,
      9,
    );
  });

  it('matches sacreBLEU with eps smoothing', () => {
    expect(corpusChrF(HYP, [REF1], { epsSmoothing: true }).score).toBeCloseTo(74.88495274647597, 9);
    expect(corpusChrF(HYP, [REF1, REF2], { epsSmoothing: true }).score).toBeCloseTo(79.94407008695525, 9);
  });

  it('matches NLTK and sacreBLEU sentence by sentence with eps smoothing', () => {
    // NLTK sentence_chrf(REF1[i], HYP[i], beta=2) * 100; sacreBLEU eps_smoothing=True agrees to 1e-13.
    const nltk = [91.46303545381645, 60.68124574491362, 66.9054737364864, 77.85166500386113, 78.1028132899217];
    HYP.forEach((hyp, i) => {
      expect(sentenceChrF(hyp, [REF1[i]!], { epsSmoothing: true }).score).toBeCloseTo(nltk[i]!, 9);
    });
  });
});
