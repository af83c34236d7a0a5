import { describe, it, expect } from 'vitest';
import { forecastChart, rowTicks, windowForecastChart } from '../../src/plot/forecastChart.js';

/** 1949-01 … 1960-12, as the airline passengers' index column. */
const months = Array.from(
  { length: 144 },
  (_, i) => `${1949 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
);
const texts = (svg: string, cls: string): string[] =>
  [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);

describe('rowTicks', () => {
  it('puts monthly dates on January at a round number of years, and other rows at round numbers', () => {
    expect(rowTicks(months, 0, 144, 8).map((i) => months[i])).toEqual([
      '1949-01',
      '1951-01',
      '1953-01',
      '1955-01',
      '1957-01',
      '1959-01',
    ]);
    // From 1956-05: the first January is 1957-01.
    expect(rowTicks(months, 88, 144, 6).map((i) => months[i])).toEqual(['1957-01', '1958-01', '1959-01', '1960-01']);
    expect(
      rowTicks(
        Array.from({ length: 100 }, (_, i) => `m${i}`),
        13,
        100,
        6,
      ),
    ).toEqual([20, 40, 60, 80]);
  });
});

describe('forecastChart', () => {
  it('shows the recent past with dates on the x axis, the forecasts from the marked start, the legend above the data', () => {
    const observed = months.map((_, i) => 100 + i);
    const svg = forecastChart({
      title: 'airline',
      labels: months,
      observed,
      start: 120,
      yLabel: 'passengers (thousands)',
      forecasts: [
        { name: 'model', values: new Float32Array(24).fill(300) },
        { name: 'naive (last value)', values: new Float32Array(24).fill(219) },
      ],
    });
    const ticks = texts(svg, 'x-tick');
    expect(ticks.every((t) => /^\d{4}-01$/.test(t))).toBe(true);
    // Twice the forecast's length of context (four years) before the 24 forecast months: a third of the width, not a sixth.
    expect(ticks[0]).toBe('1955-01');
    expect(texts(svg, 'x-label')).toEqual(['month']);
    expect(texts(svg, 'legend')).toEqual(['observed', 'model', 'naive (last value)', 'forecast from 1959-01']);
    expect(svg).toMatch(/<polyline class="series" data-name="naive \(last value\)"[^>]*stroke-dasharray/);
    expect(svg).toMatch(/<line class="mark" data-label="forecast from 1959-01"/);
    const observedLine = /data-name="observed"[^>]*points="([^"]+)"/.exec(svg)![1]!.split(' ');
    expect(observedLine).toHaveLength(72);
  });
});

describe('windowForecastChart', () => {
  it('draws one panel per window: the input, what followed and the forecast after it', () => {
    const w = {
      input: new Float32Array(50).map((_, t) => Math.sin(t / 5)),
      target: new Float32Array([0.1, 0.2]),
      forecast: new Float32Array([0.15, 0.1]),
    };
    const svg = windowForecastChart('sines', [w, w, w]);
    expect([...svg.matchAll(/<g class="panel"/g)]).toHaveLength(3);
    expect(texts(svg, 'legend').slice(0, 3)).toEqual(['window (input)', 'what followed', 'model forecast']);
    const followed = /data-name="what followed"[^>]*points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((p) => Number(p.split(',')[0]));
    const input = /data-name="window \(input\)"[^>]*points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((p) => Number(p.split(',')[0]));
    expect(followed[0]!).toBeGreaterThan(input.at(-1)!);
  });
});
