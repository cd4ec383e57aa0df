/**
 * Progress bars on stderr (cli-progress), only when stderr is a TTY and --quiet is off; otherwise a no-op.
 * Counts (images) or bytes, with rate and ETA.
 */
import type { Io } from './io.js';

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export async function createProgress(io: Io, opts: { label: string; total: number; unit: 'images' | 'texts' | 'bytes' }): Promise<Progress> {
  if (!io.progress || opts.total <= 0) return NONE;
  const { default: cliProgress } = await import('cli-progress');
  const bytes = opts.unit === 'bytes';
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      format: (options, params, payload: { rate: string; doneText: string; totalText: string }) => {
        const width = options.barsize ?? 30;
        const filled = Math.round(params.progress * width);
        const eta = Number.isFinite(params.eta) && params.value > 0 ? `${params.eta}s` : '?';
        return `${opts.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${payload.doneText}/${payload.totalText} ${payload.rate} ETA ${eta}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (done: number, total: number) => {
    const secs = Math.max(1e-3, (Date.now() - started) / 1000);
    return bytes
      ? { doneText: human(done), totalText: human(total), rate: `${human(done / secs)}/s` }
      : { doneText: String(done), totalText: String(total), rate: `${(done / secs).toFixed(1)} ${opts.unit}/s` };
  };
  let total = opts.total;
  bar.start(total, 0, payload(0, total));
  return {
    update(done, newTotal) {
      if (newTotal !== undefined && newTotal !== total) { total = newTotal; bar.setTotal(total); }
      bar.update(done, payload(done, total));
    },
    stop() { bar.stop(); },
  };
}
