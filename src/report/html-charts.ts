/**
 * Inline SVG charts drawn on the server: no script, no fonts or images to fetch. Every chart is
 * `<svg class="chart" data-chart="ID">`; bars are `<rect class="bar">`, line points
 * `<circle class="point">`, each with a `<title>` tooltip and a `data-value`, so tests (and
 * readers) can count and check them. All text goes through `esc`.
 */

/** Escape for HTML text and attribute values (also inside SVG). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** A "nice" axis maximum and step: 1, 2 or 5 × 10^k. */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: step * Math.ceil(max / step), step };
}

export interface Bar {
  label: string;
  value: number;
  /** Tooltip text (defaults to "label: value"). */
  title?: string;
}

export interface ChartOptions {
  id: string;
  /** Accessible name of the chart. */
  label: string;
  /** Value → axis text. */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

const fmtDefault = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function yAxis(top: number, step: number, x0: number, x1: number, y: (v: number) => number, fmt: (v: number) => string): string {
  let out = '';
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = r1(y(v));
    out += `<line class="grid" x1="${x0}" x2="${x1}" y1="${yy}" y2="${yy}"/><text class="tick" x="${x0 - 6}" y="${r1(yy + 4)}" text-anchor="end">${esc(fmt(v))}</text>`;
  }
  return out;
}

/** Vertical bars over time or categories; x labels are thinned to about 12. */
export function columnChart(bars: readonly Bar[], o: ChartOptions): string {
  const W = o.width ?? 1180;
  const H = o.height ?? 260;
  const fmt = o.format ?? fmtDefault;
  const left = 64;
  const right = 12;
  const top = 12;
  const bottom = 40;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const { top: ymax, step } = niceScale(max);
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const y = (v: number) => top + plotH - (v / ymax) * plotH;
  const slot = bars.length > 0 ? plotW / bars.length : plotW;
  const bw = Math.max(1, slot * 0.8);
  const every = Math.max(1, Math.ceil(bars.length / 12));
  let body = yAxis(ymax, step, left, W - right, y, fmt);
  bars.forEach((b, i) => {
    const x = left + i * slot + (slot - bw) / 2;
    const yy = y(b.value);
    const tip = b.title ?? `${b.label}: ${fmt(b.value)}`;
    body += `<rect class="bar" x="${r1(x)}" y="${r1(yy)}" width="${r1(bw)}" height="${r1(top + plotH - yy)}" data-label="${esc(b.label)}" data-value="${b.value}"><title>${esc(tip)}</title></rect>`;
    if (i % every === 0) {
      body += `<text class="xlabel" x="${r1(left + i * slot + slot / 2)}" y="${H - bottom + 16}" text-anchor="middle">${esc(b.label)}</text>`;
    }
  });
  body += `<line class="axis" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"/>`;
  return svg(o.id, o.label, W, H, body);
}

/** Horizontal bars, one a row, label on the left and value on the right (top-N lists). */
export function barList(bars: readonly Bar[], o: ChartOptions): string {
  const W = o.width ?? 380;
  const row = 22;
  const H = Math.max(1, bars.length) * row + 8;
  const fmt = o.format ?? fmtDefault;
  const labelW = 150;
  const valueW = 60;
  const plotW = W - labelW - valueW;
  const max = Math.max(0, ...bars.map((b) => b.value));
  let body = '';
  bars.forEach((b, i) => {
    const yy = 4 + i * row;
    const w = max > 0 ? (b.value / max) * plotW : 0;
    const label = [...b.label].length > 24 ? `${[...b.label].slice(0, 23).join('')}…` : b.label;
    const tip = b.title ?? `${b.label}: ${fmt(b.value)}`;
    body += `<text class="ylabel" x="${labelW - 8}" y="${yy + 15}" text-anchor="end">${esc(label)}</text>`;
    body += `<rect class="bar" x="${labelW}" y="${yy + 3}" width="${r1(Math.max(w, b.value > 0 ? 1 : 0))}" height="${row - 8}" data-label="${esc(b.label)}" data-value="${b.value}"><title>${esc(tip)}</title></rect>`;
    body += `<text class="value" x="${r1(labelW + w + 6)}" y="${yy + 15}">${esc(fmt(b.value))}</text>`;
  });
  return svg(o.id, o.label, W, H, body);
}

export interface Point {
  label: string;
  /** null: no data for that bucket (a gap in the line). */
  value: number | null;
  title?: string;
}

/** A line with a marker per point; null values break the line. */
export function lineChart(points: readonly Point[], o: ChartOptions): string {
  const W = o.width ?? 1180;
  const H = o.height ?? 260;
  const fmt = o.format ?? fmtDefault;
  const left = 80;
  const right = 12;
  const top = 12;
  const bottom = 40;
  const max = Math.max(0, ...points.map((p) => p.value ?? 0));
  const { top: ymax, step } = niceScale(max);
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const x = (i: number) => left + (points.length <= 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  const y = (v: number) => top + plotH - (v / ymax) * plotH;
  const every = Math.max(1, Math.ceil(points.length / 12));
  let body = yAxis(ymax, step, left, W - right, y, fmt);
  let path = '';
  let pen = false;
  points.forEach((p, i) => {
    if (p.value === null) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${r1(x(i))} ${r1(y(p.value))} `;
    pen = true;
  });
  if (path !== '') body += `<path class="line" d="${path.trim()}"/>`;
  points.forEach((p, i) => {
    if (p.value !== null) {
      const tip = p.title ?? `${p.label}: ${fmt(p.value)}`;
      body += `<circle class="point" cx="${r1(x(i))}" cy="${r1(y(p.value))}" r="3" data-label="${esc(p.label)}" data-value="${p.value}"><title>${esc(tip)}</title></circle>`;
    }
    if (i % every === 0) body += `<text class="xlabel" x="${r1(x(i))}" y="${H - bottom + 16}" text-anchor="middle">${esc(p.label)}</text>`;
  });
  body += `<line class="axis" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"/>`;
  return svg(o.id, o.label, W, H, body);
}

function svg(id: string, label: string, w: number, h: number, body: string): string {
  // No xmlns: inline SVG in HTML needs none, and the file then names no URL at all.
  return `<svg class="chart" data-chart="${esc(id)}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${body}</svg>`;
}
