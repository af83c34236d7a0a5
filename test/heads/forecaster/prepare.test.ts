import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { resolveForecastConfig } from '../../../src/heads/forecaster/config.js';
import {
  planForecast,
  prepareForecastRun,
  readSeries,
  recipeFromConfig,
  forecastSeedConfig,
  selectForecastRecipe,
} from '../../../src/heads/forecaster/prepare.js';

beforeAll(useTestBackend);

const dir = mkdtempSync(join(tmpdir(), 'forecast-prepare-'));
const csv = join(dir, 'series.csv');
writeFileSync(
  csv,
  [
    'month,a,b',
    ...Array.from({ length: 40 }, (_, t) => `m${t},${(20 + t + 5 * Math.sin(t / 2)).toFixed(2)},${t % 7}`),
  ].join('\n') + '\n',
);

describe('forecaster runs', () => {
  it('readSeries takes the index and value columns by name or position, "none" for no index', async () => {
    expect((await readSeries({ csv })).names).toEqual(['a', 'b']);
    expect((await readSeries({ csv, columns: ['2'] })).names).toEqual(['b']);
    expect((await readSeries({ csv, index: 'none', columns: ['a'] })).index[0]).toBe('0');
    await expect(readSeries({})).rejects.toThrow(/give a series/);
  });

  it('plans the rows: test at the end, validation before it, the rest fitted; targets must be columns', async () => {
    const config = resolveForecastConfig([
      { data: { csv, test: 5, valid: 5, window: 4, targets: ['a'] }, model: { hiddenSize: 4 } },
    ]);
    const plan = await planForecast(config);
    expect([plan.trainRows, plan.fitRows, plan.truth.length, plan.target]).toEqual([35, 30, 5, 0]);
    expect(plan.recipe).toEqual(recipeFromConfig(config));
    const p = prepareForecastRun(plan, 1);
    try {
      expect(p.saved.config).toEqual(forecastSeedConfig(config, 1));
      expect(p.saved.config.model.seed).toBe(2);
      expect(p.summary).toEqual({ trainWindows: 30 - 4, validWindows: 5, window: 4 });
    } finally {
      p.forecaster.dispose();
    }
    await expect(planForecast(resolveForecastConfig([{ data: { csv, targets: ['c'] } }]))).rejects.toThrow(
      /--targets: "c" is not one of the value columns \(a, b\)/,
    );
    await expect(planForecast(resolveForecastConfig([{ data: { csv, test: 30, valid: 9 } }]))).rejects.toThrow(
      /40 rows leave 1 training rows/,
    );
    await expect(
      planForecast(resolveForecastConfig([{ data: { csv }, validation: { seeds: 2 } }]), true),
    ).rejects.toThrow(/--resume continues one run/);
  });

  it("selection takes the best candidate's recipe into the plan", async () => {
    const config = resolveForecastConfig([
      {
        data: { csv, columns: ['a'], test: 4, window: 4 },
        model: { hiddenSize: 2 },
        training: { steps: 1 },
        validation: { select: true, origins: 2, originStep: 3, originHorizon: 3, season: 4, budgetMinutes: 1 },
      },
    ]);
    const plan = await planForecast(config);
    const seen: number[] = [];
    const s = selectForecastRecipe(plan, (_c, i) => seen.push(i));
    expect(seen.length).toBeGreaterThan(0);
    expect(plan.recipe).toEqual(s.best.recipe);
  });
});
