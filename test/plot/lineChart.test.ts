import { describe, it, expect } from 'vitest';
import { lineChart, niceTicks, escapeXml } from '../../src/plot/lineChart.js';

describe('lineChart', () => {
  it('draws one polyline per series inside the plot area, with title, labels and legend escaped', () => {
    const svg = lineChart({
      title: 'loss <train & valid>', xLabel: 'step', yLabel: 'loss',
      series: [{ name: 'train', points: [[0, 4], [50, 2], [100, 1]] }, { name: 'valid "dev"', points: [[100, 1.5]] }],
      width: 600, height: 400,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('loss &lt;train &amp; valid&gt;');
    expect(svg).toContain('valid &quot;dev&quot;');
    expect(svg.match(/<polyline/g)).toHaveLength(1); // a one-point series is drawn as a marker only
    // x from 0 to 100 maps onto the plot's left (70) and right (600 − 20) edges; y = 4 is at or below the top (40).
    const pts = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(pts[0]![0]).toBe(70);
    expect(pts[2]![0]).toBe(580);
    expect(pts[0]![1]).toBeGreaterThanOrEqual(40);
    expect(pts[0]![1]).toBeLessThan(pts[2]![1]!); // a larger y is higher up
  });

  it('skips non-finite points, and survives no data at all', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 1], [1, NaN], [2, Infinity], [3, 2]] }] });
    expect(/points="([^"]+)"/.exec(svg)![1]!.split(' ')).toHaveLength(2);
    expect(svg).not.toContain('NaN');
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data yet');
  });

  it('log scale labels decades', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'ppl', logY: true, series: [{ name: 's', points: [[0, 1000], [1, 10]] }] });
    for (const label of ['>10<', '>100<', '>1000<']) expect(svg).toContain(label);
    expect(svg).toContain('ppl (log scale)');
  });

  it('niceTicks steps by 1, 2 or 5 × 10^k and covers the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(escapeXml(`<a href='x'>&</a>`)).toBe('&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;');
  });
});
