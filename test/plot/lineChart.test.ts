import { describe, it, expect } from 'vitest';
import { lineChart, stackedCharts, niceTicks, escapeXml } from '../../src/plot/lineChart.js';

describe('lineChart', () => {
  it('draws one polyline per series inside the plot area, with title, labels and legend escaped', () => {
    const svg = lineChart({
      title: 'loss <train & valid>',
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        {
          name: 'train',
          points: [
            [0, 4],
            [50, 2],
            [100, 1],
          ],
        },
        { name: 'valid "dev"', points: [[100, 1.5]] },
      ],
      width: 600,
      height: 400,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('loss &lt;train &amp; valid&gt;');
    expect(svg).toContain('valid &quot;dev&quot;');
    expect(svg.match(/<polyline/g)).toHaveLength(1); // a one-point series is drawn as a marker only
    // x from 0 to 100 maps onto the plot frame's left and right edges; y = 4 is at or below its top.
    const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/
      .exec(svg)!
      .slice(1)
      .map(Number);
    const pts = /points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(pts[0]![0]).toBe(frame[0]);
    expect(pts[2]![0]).toBeCloseTo(frame[0]! + frame[2]!, 0);
    expect(pts[0]![1]).toBeGreaterThanOrEqual(frame[1]!);
    expect(pts[0]![1]).toBeLessThan(pts[2]![1]!); // a larger y is higher up
    // The legend stands above the frame, never over the data, within the width.
    const legend = [...svg.matchAll(/<text class="legend" x="([\d.]+)" y="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(legend).toHaveLength(2);
    for (const [x, y] of legend) {
      expect(y).toBeLessThan(frame[1]!);
      expect(x).toBeGreaterThanOrEqual(frame[0]!);
    }
    expect(legend[1]![0]! + 11 * 6.8).toBeLessThanOrEqual(600);
  });

  it('skips non-finite points, and survives no data at all', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [1, NaN],
            [2, Infinity],
            [3, 2],
          ],
        },
      ],
    });
    expect(/points="([^"]+)"/.exec(svg)![1]!.split(' ')).toHaveLength(2);
    expect(svg).not.toContain('NaN');
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data yet');
  });

  it('log scale labels decades', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'ppl',
      logY: true,
      series: [
        {
          name: 's',
          points: [
            [0, 1000],
            [1, 10],
          ],
        },
      ],
    });
    for (const label of ['>10<', '>100<', '>1000<']) expect(svg).toContain(label);
    expect(svg).toContain('ppl (log scale)');
  });

  it('draws labelled vertical marks, caller-chosen x ticks with their own labels, and a top axis', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'month',
      yLabel: 'passengers',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [12, 2],
            [24, 3],
          ],
        },
      ],
      marks: [{ x: 12, label: 'forecast starts' }],
      xTicks: [0, 12, 24],
      xTickLabel: (x) => `${1949 + x / 12}-01`,
      topAxis: { label: 'years', at: (x) => x / 12 },
    });
    expect([...svg.matchAll(/<text class="x-tick"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([
      '1949-01',
      '1950-01',
      '1951-01',
    ]);
    expect([...svg.matchAll(/<text class="top-tick"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['0', '1', '2']);
    const mark = /<line class="mark" data-label="forecast starts" x1="([\d.]+)"/.exec(svg)!;
    const ticks = [...svg.matchAll(/<text class="x-tick" x="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Number(mark[1])).toBeCloseTo(ticks[1]!, 1);
    expect(svg).toMatch(/<text class="legend"[^>]*>forecast starts</);
  });

  it('stacks one panel per quantity, each with its own y axis, sharing the x axis', () => {
    const svg = stackedCharts({
      title: 't',
      xLabel: 'step',
      panels: [
        {
          yLabel: 'BLEU',
          series: [
            {
              name: 'bleu',
              points: [
                [0, 10],
                [1, 30],
              ],
            },
          ],
        },
        {
          yLabel: 'exact match (%)',
          series: [
            {
              name: 'em',
              points: [
                [0, 0.5],
                [1, 1.6],
              ],
            },
          ],
        },
      ],
    });
    const parts = svg.split('<g class="panel"').slice(1);
    expect(parts).toHaveLength(2);
    const yTicks = (part: string): number[] =>
      [...part.matchAll(/<text class="y-tick"[^>]*>([^<]*)</g)].map((m) => Number(m[1]));
    expect(Math.max(...yTicks(parts[0]!))).toBe(30);
    expect(Math.max(...yTicks(parts[1]!))).toBeLessThanOrEqual(2);
    expect([...svg.matchAll(/<text class="x-label"/g)]).toHaveLength(1);
  });

  it('niceTicks steps by 1, 2 or 5 × 10^k and covers the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(escapeXml(`<a href='x'>&</a>`)).toBe('&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;');
  });
});
