import type { Writable } from 'node:stream';
import type { EngineStats } from './engine.js';

/** How often the progress line is redrawn. */
const REDRAW_MS = 200;

/** Seconds as "42 s", "3 min 5 s". */
export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs)) return '?';
  const s = Math.max(0, Math.round(secs));
  if (secs < 10) return `${Math.max(0, secs).toFixed(1)} s`;
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The progress line: accounts done/total, requests, failures, rate, ETA. While accounts are still being listed the total is "N+" and the ETA unknown. */
export function progressLine(st: EngineStats, nowMs: number): string {
  const secs = Math.max(0.001, (nowMs - st.startedMs) / 1000);
  const rate = st.done / secs;
  const eta = rate > 0 && !st.listing ? formatDuration((st.total - st.done) / rate) : '?';
  return `accounts ${st.done}/${st.total}${st.listing ? '+' : ''} · requests ${st.requests} · failed ${st.failed} · ${rate.toFixed(1)} accounts/s · ETA ${eta}`;
}

/** The line cut to `max` characters (an ellipsis marks the cut). */
export function fitLine(line: string, max: number): string {
  if (max < 1) return '';
  return line.length <= max ? line : line.slice(0, max - 1) + '…';
}

/** A one-line progress display on a terminal's stderr, redrawn in place; nothing at all elsewhere. */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private stats: EngineStats | undefined;
  private drawn = false;
  /** `columns`: the width when the stream does not say (a terminal's stderr knows its own). */
  constructor(
    private readonly err: Writable,
    private readonly columns = 80,
  ) {}

  start(stats: EngineStats): void {
    this.stats = stats;
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    this.timer.unref();
  }

  /** Called on every answer; the line is redrawn on the timer only. */
  tick(): void {}

  private draw(): void {
    if (!this.stats) return;
    // a line longer than the terminal wraps, and \r would then clear only its last row: keep it to one row
    const width = (this.err as { columns?: number }).columns || this.columns;
    this.err.write(`\r\x1b[K${fitLine(progressLine(this.stats, performance.now()), width - 1)}`);
    this.drawn = true;
  }

  /** Writes a line of its own above the progress line (redrawn on the next tick). */
  note(text: string): void {
    this.err.write(`${this.drawn ? '\r\x1b[K' : ''}${text}\n`);
    this.drawn = false;
  }

  /** Removes the line so the summary starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.err.write('\r\x1b[K');
    this.drawn = false;
  }
}
