// A small uPlot chart (npm uplot, pinned in web/package.json): a daily series as bars, with a click on a day
// calling onPick(index). Sized to its container, so it reads on a phone too.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '@destek/agent';

function bars() {
  return uPlot.paths.bars({ size: [0.7, 40] });
}

export function DailyChart({ days, series, label, onPick, color = '#2f6fde', kind = 'bars', height = 180 }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || !days.length) return undefined;
    const xs = days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000);
    const ys = series.map((v) => (v === null || v === undefined ? null : v));
    const opts = {
      width: Math.max(240, el.clientWidth || 320),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: '#666', grid: { show: false } }, { stroke: '#666', size: 48 }],
      series: [{}, { label, stroke: color, fill: kind === 'bars' ? color + '99' : undefined, width: kind === 'bars' ? 0 : 2,
        paths: kind === 'bars' ? bars() : undefined, spanGaps: true, points: { show: kind !== 'bars' } }],
    };
    const plot = new uPlot(opts, [xs, ys], el);
    const over = plot.over;
    const click = () => {
      const i = plot.cursor.idx;
      if (onPick && i !== null && i !== undefined) onPick(i);
    };
    over.addEventListener('click', click);
    const resize = () => plot.setSize({ width: Math.max(240, el.clientWidth || 320), height });
    window.addEventListener('resize', resize);
    return () => {
      over.removeEventListener('click', click);
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [days, series, label, onPick, color, kind, height]);
  return html`<div class="reports-chart" ref=${ref} role="img" aria-label=${label}></div>`;
}
