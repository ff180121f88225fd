/**
 * Traffic and activity over time, in fixed UTC buckets (hours or days).
 *
 * A hits row only says how many bytes flowed between its first and last packet, not when: the
 * approximation here spreads each row's bytes uniformly over its [first_seen, last_seen]
 * interval, clipped to the report window. A row with first_seen = last_seen puts all its bytes
 * in the bucket of that instant. A bucket's bit rate is its bytes × 8 over the seconds of the
 * bucket that lie inside the window (a whole hour, except at the window's edges).
 *
 * Work is O(rows + buckets): full buckets inside a row's interval are filled with a difference
 * array, only the two partial ends are computed one by one.
 */

export const HOUR_US = 3_600_000_000;
export const DAY_US = 24 * HOUR_US;

/** Most buckets one report computes (about 11 years of hours); more is a usage error upstream. */
export const MAX_BUCKETS = 100_000;

export interface Window {
  /** Microseconds since the epoch; start <= end. */
  start: number;
  end: number;
}

export interface Buckets {
  /** Microseconds: the start of bucket 0 (aligned to the bucket size, UTC). */
  origin: number;
  size: number;
  count: number;
}

export function bucketsFor(w: Window, size: number): Buckets {
  const origin = Math.floor(w.start / size) * size;
  // The last bucket holds `end` itself (a window ending on a boundary still has that instant).
  const count = Math.floor((w.end - origin) / size) + 1;
  return { origin, size, count };
}

/** Seconds of each bucket that lie inside the window. */
export function coveredSeconds(b: Buckets, w: Window): Float64Array {
  const out = new Float64Array(b.count);
  for (let i = 0; i < b.count; i++) {
    const s = Math.max(b.origin + i * b.size, w.start);
    const e = Math.min(b.origin + (i + 1) * b.size, w.end);
    out[i] = Math.max(0, e - s) / 1e6;
  }
  return out;
}

export interface Spread {
  start: number;
  end: number;
  bytes: number;
}

/** Bytes per bucket, each interval's bytes spread uniformly over it and clipped to the window. */
export function spreadBytes(items: Iterable<Spread>, b: Buckets, w: Window): Float64Array {
  const out = new Float64Array(b.count);
  // diff[i] adds `diff` per full bucket from i on (prefix sum at the end).
  const diff = new Float64Array(b.count + 1);
  const idx = (t: number) => Math.min(b.count - 1, Math.max(0, Math.floor((t - b.origin) / b.size)));
  for (const it of items) {
    if (it.bytes <= 0) continue;
    const len = it.end - it.start;
    if (len <= 0) {
      if (it.start >= w.start && it.start <= w.end) out[idx(it.start)]! += it.bytes;
      continue;
    }
    const s = Math.max(it.start, w.start);
    const e = Math.min(it.end, w.end);
    if (e <= s) continue;
    const rate = it.bytes / len; // bytes per microsecond
    const i0 = idx(s);
    const i1 = idx(e);
    if (i0 === i1) {
      out[i0]! += rate * (e - s);
      continue;
    }
    out[i0]! += rate * (b.origin + (i0 + 1) * b.size - s);
    out[i1]! += rate * (e - (b.origin + i1 * b.size));
    if (i1 - i0 > 1) {
      diff[i0 + 1]! += rate * b.size;
      diff[i1]! -= rate * b.size;
    }
  }
  let run = 0;
  for (let i = 0; i < b.count; i++) {
    run += diff[i]!;
    out[i]! += run;
  }
  return out;
}

/**
 * Distinct keys (sources) active in each bucket: a key counts in every bucket one of its
 * intervals touches (clipped to the window), once however many intervals it has there.
 */
export function activePerBucket(byKey: Map<string, [number, number][]>, b: Buckets, w: Window): Int32Array {
  const diff = new Int32Array(b.count + 1);
  const idx = (t: number) => Math.min(b.count - 1, Math.max(0, Math.floor((t - b.origin) / b.size)));
  for (const spans of byKey.values()) {
    const ranges: [number, number][] = [];
    for (const [s0, e0] of spans) {
      const s = Math.max(s0, w.start);
      const e = Math.min(e0, w.end);
      if (e < s) continue;
      ranges.push([idx(s), idx(e)]);
    }
    ranges.sort((x, y) => x[0] - y[0]);
    let cur: [number, number] | null = null;
    for (const r of ranges) {
      if (cur !== null && r[0] <= cur[1]) {
        if (r[1] > cur[1]) cur[1] = r[1];
        continue;
      }
      if (cur !== null) {
        diff[cur[0]]!++;
        diff[cur[1] + 1]!--;
      }
      cur = [r[0], r[1]];
    }
    if (cur !== null) {
      diff[cur[0]]!++;
      diff[cur[1] + 1]!--;
    }
  }
  const out = new Int32Array(b.count);
  let run = 0;
  for (let i = 0; i < b.count; i++) {
    run += diff[i]!;
    out[i] = run;
  }
  return out;
}

/** Keys whose first instant falls in each bucket (new sources); keys starting outside the window are not counted. */
export function newPerBucket(firstSeen: Iterable<number>, b: Buckets, w: Window): Int32Array {
  const out = new Int32Array(b.count);
  for (const t of firstSeen) {
    if (t < w.start || t > w.end) continue;
    out[Math.min(b.count - 1, Math.floor((t - b.origin) / b.size))]!++;
  }
  return out;
}

export interface TrafficFigures {
  /** Bytes inside the window (after spreading and clipping). */
  bytes: number;
  /** Bits per second over the whole window; null when the window has no length. */
  averageBps: number | null;
  /** The busiest hour: bits per second over its covered seconds; null without any. */
  peakHourBps: number | null;
  /** Start of that hour (microseconds), or null. */
  peakHourStart: number | null;
}

/** Average and peak hourly bit rate of the rows' bytes over the window. */
export function trafficFigures(items: Spread[], w: Window): TrafficFigures {
  const b = bucketsFor(w, HOUR_US);
  if (b.count > MAX_BUCKETS) throw new RangeError(`window too long: ${b.count} hours`);
  const bytes = spreadBytes(items, b, w);
  const cover = coveredSeconds(b, w);
  let total = 0;
  let peak: number | null = null;
  let peakAt: number | null = null;
  for (let i = 0; i < b.count; i++) {
    total += bytes[i]!;
    if (cover[i]! <= 0) continue;
    const bps = (bytes[i]! * 8) / cover[i]!;
    if (peak === null || bps > peak) {
      peak = bps;
      peakAt = b.origin + i * b.size;
    }
  }
  const seconds = (w.end - w.start) / 1e6;
  return { bytes: total, averageBps: seconds > 0 ? (total * 8) / seconds : null, peakHourBps: seconds > 0 ? peak : null, peakHourStart: seconds > 0 ? peakAt : null };
}
