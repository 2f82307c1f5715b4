// A small uPlot chart (npm uplot, pinned in web/package.json): a daily series as bars, with a click on a day
// calling onPick(index). Sized to its container, so it reads on a phone too. uPlot is loaded when the first chart is
// drawn (vendor.json), not with the app: the app's first load stays within its budget.
import { useEffect, useRef } from 'preact/hooks';
import { html, loadVendor } from '@destek/agent';

const uplot = () => loadVendor('reports', 'uplot.js', 'uPlot');

export function DailyChart({ days, series, label, onPick, color = '#2f6fde', kind = 'bars', height = 180 }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || !days.length) return undefined;
    let plot = null, gone = false, resize = null, click = null;
    uplot().then((uPlot) => {
      if (gone) return;
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
          paths: kind === 'bars' ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined, spanGaps: true, points: { show: kind !== 'bars' } }],
      };
      plot = new uPlot(opts, [xs, ys], el);
      click = () => {
        const i = plot.cursor.idx;
        if (onPick && i !== null && i !== undefined) onPick(i);
      };
      plot.over.addEventListener('click', click);
      resize = () => plot.setSize({ width: Math.max(240, el.clientWidth || 320), height });
      window.addEventListener('resize', resize);
    }, (e) => { if (!gone) el.textContent = e.message; });
    return () => {
      gone = true;
      if (!plot) return;
      plot.over.removeEventListener('click', click);
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [days, series, label, onPick, color, kind, height]);
  return html`<div class="reports-chart" ref=${ref} role="img" aria-label=${label}></div>`;
}
