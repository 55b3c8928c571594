import { ageOf, type Ring } from './series.js';

/** Colours of the lines, in order of their names; chosen to stay apart for common colour blindness. */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/**
 * Draws every line of `ring` over the last `windowMs` on a plain canvas, newest at the right, and
 * fills `legend` with the names and their latest values. The canvas's `data-points` says how many
 * points were drawn (what a test, or a person with the inspector, can check) and its label says
 * the latest values, for screen readers.
 */
export interface ChartOptions {
  /** How far back the chart goes, in ms. */
  readonly windowMs: number;
  /** How a value is written on the axis and in the legend. */
  readonly format: (value: number) => string;
  /** The lowest top of the scale, so that an idle line at 0 does not fill the chart with noise. */
  readonly minTop: number;
}

export function drawChart(canvas: HTMLCanvasElement, legend: HTMLElement, ring: Ring, options: ChartOptions): void {
  const { windowMs, format } = options;
  const context = canvas.getContext('2d');
  if (!context) return;
  const style = getComputedStyle(canvas);
  const ink = style.color || '#1b1f24';
  const { width, height } = canvas;
  const pad = { left: 56, right: 12, top: 10, bottom: 22 };
  const plotWidth = width - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;
  const points = ring.all();
  const now = points.length > 0 ? points[points.length - 1].t : Date.now();
  const top = niceCeiling(Math.max(ring.max(), options.minTop));
  const x = (t: number): number => pad.left + plotWidth * (1 - (now - t) / windowMs);
  const y = (v: number): number => pad.top + plotHeight * (1 - v / top);

  context.clearRect(0, 0, width, height);
  context.font = '12px system-ui, sans-serif';
  context.fillStyle = ink;
  context.strokeStyle = ink;
  context.globalAlpha = 0.25;
  context.lineWidth = 1;
  for (const fraction of [0, 0.5, 1]) {
    context.beginPath();
    context.moveTo(pad.left, y(top * fraction));
    context.lineTo(width - pad.right, y(top * fraction));
    context.stroke();
  }
  context.globalAlpha = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const fraction of [0, 0.5, 1]) context.fillText(format(top * fraction), pad.left - 6, y(top * fraction));
  context.textBaseline = 'alphabetic';
  context.textAlign = 'left';
  context.fillText(`-${ageOf(windowMs)}`, pad.left, height - 6);
  context.textAlign = 'right';
  context.fillText('now', width - pad.right, height - 6);

  const names = ring.names();
  let drawn = 0;
  context.lineWidth = 2;
  names.forEach((name, i) => {
    context.strokeStyle = colourOf(i);
    context.beginPath();
    let started = false;
    for (const point of points) {
      const value = point.values[name];
      if (value === undefined) {
        started = false;
        continue;
      }
      if (started) context.lineTo(x(point.t), y(value));
      else context.moveTo(x(point.t), y(value));
      started = true;
      drawn += 1;
    }
    context.stroke();
  });
  canvas.dataset.points = String(drawn);

  const latest = points.length > 0 ? points[points.length - 1].values : {};
  legend.replaceChildren(
    ...names.map((name, i) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      // CSSOM, not a style attribute: the page's Content-Security-Policy allows no inline styles.
      swatch.style.backgroundColor = colourOf(i);
      item.append(swatch, `${name}: ${latest[name] === undefined ? '-' : format(latest[name])}`);
      return item;
    }),
  );
  canvas.setAttribute('aria-label', names.map((name) => `${name} ${latest[name] === undefined ? '-' : format(latest[name])}`).join(', '));
}

/** A round number at or above `value` for the top of the scale (1, 2, 5 × 10^n). */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
