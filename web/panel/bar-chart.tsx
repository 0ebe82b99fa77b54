import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BarSeries {
  label: string;
  values: number[];
  /** A CSS custom property holding the colour (panel.css sets them per theme). */
  colorVar: string;
}

const HEIGHT = 200;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888888';
}

/**
 * Grouped bars drawn by uPlot: group g sits at x = g, its series side by side around it (each
 * series has values only at its own x, null elsewhere). The canvas is decoration for sighted
 * readers: the same numbers are in the table beside it, which is what screen readers get.
 */
export function BarChart({
  groups,
  series,
  caption,
}: {
  groups: string[];
  series: BarSeries[];
  caption: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const data = JSON.stringify({ groups, series });

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const { groups: labels, series: all } = JSON.parse(data) as { groups: string[]; series: BarSeries[] };
    const n = all.length;
    const step = 0.8 / n;
    const xs: number[] = [];
    for (let g = 0; g < labels.length; g++) for (let s = 0; s < n; s++) xs.push(g + (s - (n - 1) / 2) * step);
    const columns = all.map((one, s) =>
      xs.map((_, i) => (i % n === s ? (one.values[Math.floor(i / n)] ?? 0) : null)),
    );
    const max = Math.max(1, ...all.flatMap((one) => one.values));
    let plot: uPlot | undefined;
    // The colours baked into the canvas; redrawn only when one of them changes.
    const colours = () => ['--c-hint', '--c-border', ...all.map((one) => one.colorVar)].map(cssVar).join(' ');
    let drawnWith = '';

    const draw = () => {
      plot?.destroy();
      drawnWith = colours();
      const axisColor = cssVar('--c-hint');
      const grid = cssVar('--c-border');
      plot = new uPlot(
        {
          width: Math.max(200, element.clientWidth),
          height: HEIGHT,
          legend: { show: false },
          cursor: { show: false },
          select: { show: false, left: 0, top: 0, width: 0, height: 0 },
          scales: {
            x: { time: false, range: [-0.5, labels.length - 0.5] },
            y: { range: [0, Math.ceil(max * 1.15)] },
          },
          axes: [
            {
              stroke: axisColor,
              size: 28,
              gap: 6,
              grid: { show: false },
              ticks: { show: false },
              splits: () => labels.map((_, g) => g),
              values: (_u, splits) => splits.map((v) => labels[Math.round(v)] ?? ''),
            },
            {
              stroke: axisColor,
              grid: { stroke: grid, width: 1 },
              ticks: { show: false },
              size: 40,
              values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
            },
          ],
          series: [
            {},
            ...all.map((one) => ({
              label: one.label,
              fill: cssVar(one.colorVar),
              stroke: cssVar(one.colorVar),
              width: 0,
              points: { show: false },
              paths: uPlot.paths.bars?.({ size: [0.9, 48], radius: 0.15 }),
            })),
          ],
        },
        [xs, ...columns] as uPlot.AlignedData,
        element,
      );
    };
    draw();
    const resize = new ResizeObserver(() => {
      if (plot && Math.abs(plot.width - element.clientWidth) > 2)
        plot.setSize({ width: Math.max(200, element.clientWidth), height: HEIGHT });
    });
    resize.observe(element);
    // Telegram's theme or the system's light/dark changed: colours are baked into the canvas.
    // applyTheme writes the colours into <html>'s style and sets data-theme, but the SDK's
    // viewport.bindCssVars also rewrites that style on every resize (--tg-viewport-*), so a style
    // change alone is no reason to redraw: only a change of the colours the chart uses is. (Not
    // data-theme alone either: one dark palette switched for another keeps data-theme="dark".)
    const theme = new MutationObserver(() => {
      if (colours() !== drawnWith) draw();
    });
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'style'] });
    return () => {
      resize.disconnect();
      theme.disconnect();
      plot?.destroy();
    };
  }, [data]);

  return (
    <figure className="chart">
      <figcaption>{caption}</figcaption>
      <ul className="legend" aria-hidden="true">
        {series.map((one) => (
          <li key={one.label}>
            <span className="swatch" style={{ background: `var(${one.colorVar})` }} />
            {one.label}
          </li>
        ))}
      </ul>
      <div ref={box} className="chart-canvas" aria-hidden="true" />
      <table className="chart-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <td />
            {groups.map((g) => (
              <th key={g} scope="col">
                {g}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {series.map((one) => (
            <tr key={one.label}>
              <th scope="row">
                <span className="swatch" style={{ background: `var(${one.colorVar})` }} aria-hidden="true" />
                {one.label}
              </th>
              {one.values.map((v, i) => (
                <td key={groups[i]}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
