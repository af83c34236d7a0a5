import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { resolveForecastConfig } from '../../../src/heads/forecaster/config.js';
import { planForecast, prepareForecastRun } from '../../../src/heads/forecaster/prepare.js';
import { forecastBaselines, forecastTestRmse } from '../../../src/heads/forecaster/scores.js';

beforeAll(useTestBackend);

const dir = mkdtempSync(join(tmpdir(), 'forecast-scores-'));
const csv = join(dir, 'series.csv');
// A series that repeats every 4 rows: the seasonal naive forecast is exact.
writeFileSync(csv, ['t,v', ...Array.from({ length: 32 }, (_, t) => `${t},${[1, 5, 3, 8][t % 4]}`)].join('\n') + '\n');

describe('forecast test scores', () => {
  it('scores the naive, seasonal-naive and linear baselines on the test rows, and the linear part alone when the recipe has one', async () => {
    const plan = await planForecast(
      resolveForecastConfig([{ data: { csv, test: 8, window: 4 }, validation: { season: 4 } }]),
    );
    const base = forecastBaselines(plan);
    expect(base.map((b) => b.name)).toEqual([
      'naive (last value)',
      'seasonal naive (4)',
      'linear AR(4) on raw values, recursive',
    ]);
    expect(base[1]!.rmse).toBeCloseTo(0, 9);
    expect(base[0]!.rmse).toBeGreaterThan(1);
    const linear = await planForecast(
      resolveForecastConfig([
        { data: { csv, test: 8, window: 4 }, model: { linearOrder: 4 }, validation: { season: 4 } },
      ]),
    );
    expect(forecastBaselines(linear).map((b) => b.name)[3]).toMatch(/AR\(4\) alone/);
  });

  it("forecastTestRmse is the RMSE of the forecaster's forecast of the test rows", async () => {
    const plan = await planForecast(
      resolveForecastConfig([{ data: { csv, test: 8, window: 4 }, model: { hiddenSize: 3 } }]),
    );
    const p = prepareForecastRun(plan, 0);
    try {
      const f = p.forecaster.forecastAhead(plan.trainColumns, 8)[0]!;
      const expected = Math.sqrt(f.reduce((s, x, i) => s + (x - plan.truth[i]!) ** 2, 0) / 8);
      expect(forecastTestRmse(p.forecaster, plan)).toBeCloseTo(expected, 5);
    } finally {
      p.forecaster.dispose();
    }
  });
});
