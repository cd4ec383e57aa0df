/**
 * A dependency-free SVG line chart (used by the bench report through chart.ts): series over a log2 x axis,
 * each with an optional ±std band and markers, dashed horizontal reference lines (zero-shot) labelled where
 * they hide the least, a legend placed in the plot corner that covers the fewest data points, grid, ticks and
 * axis titles. Sized for 720x440 and readable when scaled. An optional axis gap (`dashedAfter`) draws the
 * segments past it dashed with a break mark on the axis. All text is XML-escaped.
 */

export interface ChartPoint {
  x: number;
  y: number;
  std?: number | null;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface ChartLine {
  name: string;
  y: number;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  hlines?: ChartLine[];
  /** Tick positions (x units) and labels; default: every x of the series. */
  xTicks?: { x: number; label: string }[];
  /** Segments that end at an x above this are dashed (an axis gap). */
  dashedAfter?: number;
  /** Formats y values (ticks and line labels); default: percent with no decimals on ticks. */
  yTick?: (y: number) => string;
  yValue?: (y: number) => string;
  /** Clamp the y range to [0, 1] (fractions). Default true. */
  unitRange?: boolean;
  width?: number;
  height?: number;
}

const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#9c755f', '#edc948'];
const LINE_STYLES = [{ color: '#3b3b3b', dash: '7 4' }, { color: '#8c6d31', dash: '2 3' }, { color: '#6b6b6b', dash: '10 3 2 3' }];
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();
const textWidth = (s: string, size: number): number => s.length * size * 0.56;
/** Shortens text with an ellipsis in the middle to fit `width` pixels (estimated). */
const fit = (s: string, size: number, width: number): string => {
  const max = Math.floor(width / (size * 0.56));
  if (s.length <= max) return s;
  const keep = Math.max(4, max - 1);
  return s.slice(0, Math.ceil(keep / 2)) + '…' + s.slice(s.length - Math.floor(keep / 2));
};

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` intervals over `range`. */
export function niceStep(range: number, target = 5): number {
  const raw = range / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function yDomain(spec: LineChartSpec): [number, number, number] {
  const ys: number[] = [];
  for (const s of spec.series) for (const p of s.points) ys.push(p.y - (p.std ?? 0), p.y + (p.std ?? 0));
  for (const h of spec.hlines ?? []) ys.push(h.y);
  if (ys.length === 0) ys.push(0, 1);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (!(hi > lo)) { lo -= 0.05; hi += 0.05; }
  const pad = (hi - lo) * 0.08;
  const step = niceStep(hi - lo + 2 * pad);
  lo = Math.floor((lo - pad) / step) * step;
  hi = Math.ceil((hi + pad) / step) * step;
  if (spec.unitRange ?? true) { lo = Math.max(0, lo); hi = Math.min(1, hi); }
  return [lo, hi, step];
}

/** Renders the chart as a standalone SVG document. */
export function lineChartSvg(spec: LineChartSpec): string {
  const W = spec.width ?? 720;
  const H = spec.height ?? 440;
  const yTick = spec.yTick ?? ((y: number) => `${Math.round(y * 100)}%`);
  const yValue = spec.yValue ?? ((y: number) => `${(y * 100).toFixed(1)}%`);
  const m = { top: spec.subtitle ? 68 : 50, right: 28, bottom: 58, left: 66 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ticks = spec.xTicks ?? [...new Set(xs)].sort((a, b) => a - b).map((x) => ({ x, label: String(x) }));
  const lx = [...xs, ...ticks.map((t) => t.x)].map(Math.log2);
  if (lx.length === 0) lx.push(0);
  const x0 = Math.min(...lx) - 0.35;
  const x1 = Math.max(...lx) + 0.35;
  const [y0, y1, ystep] = yDomain(spec);
  const X = (x: number) => m.left + ((Math.log2(x) - x0) / (x1 - x0)) * pw;
  const Y = (y: number) => m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  const label = `${spec.title}${spec.subtitle ? ` (${spec.subtitle})` : ''}`;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${xmlEscape(label)}" font-family="${xmlEscape(FONT)}">`);
  out.push(`<title>${xmlEscape(label)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="26" font-size="16" font-weight="600" fill="#1f2328">${xmlEscape(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${m.left}" y="46" font-size="12" fill="#59636e">${xmlEscape(fit(spec.subtitle, 12, W - m.left - 8))}</text>`);

  // Grid and y ticks.
  out.push('<g class="grid" font-size="11" fill="#59636e">');
  for (let v = y0; v <= y1 + ystep / 1e6; v += ystep) {
    const y = f1(Y(v));
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e6e8eb" stroke-width="1"/>`);
    out.push(`<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${xmlEscape(yTick(v))}</text>`);
  }
  for (const t of ticks) {
    const x = f1(X(t.x));
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f1f3" stroke-width="1"/>`);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#8c959f"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 19}" text-anchor="middle">${xmlEscape(t.label)}</text>`);
  }
  out.push('</g>');
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#8c959f"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" font-size="12" text-anchor="middle" fill="#1f2328">${xmlEscape(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#1f2328">${xmlEscape(spec.yLabel)}</text>`);

  // Zero-shot (horizontal) lines; their labels are placed after the legend, where they hide the least.
  (spec.hlines ?? []).forEach((h, i) => {
    const st = LINE_STYLES[i % LINE_STYLES.length]!;
    const y = f1(Y(h.y));
    out.push(`<line class="hline" data-name="${xmlEscape(h.name)}" x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="${st.color}" stroke-width="1.75" stroke-dasharray="${st.dash}"/>`);
  });
  if (spec.dashedAfter !== undefined) {
    // An axis break between the last measured x and the gap point.
    const after = ticks.map((t) => t.x).filter((x) => x > spec.dashedAfter!);
    if (after.length) {
      const bx = (X(spec.dashedAfter) + X(Math.min(...after))) / 2;
      const by = m.top + ph;
      out.push(`<rect x="${f1(bx - 5)}" y="${f1(by - 3)}" width="10" height="6" fill="#ffffff"/>`);
      for (const dx of [-3, 3]) out.push(`<line x1="${f1(bx + dx - 3)}" y1="${f1(by + 5)}" x2="${f1(bx + dx + 3)}" y2="${f1(by - 5)}" stroke="#8c959f" stroke-width="1.25"/>`);
    }
  }

  // Series: band, line (dashed across the axis gap), markers.
  spec.series.forEach((s, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-name="${xmlEscape(s.name)}">`);
    if (pts.some((p) => p.std)) {
      const upper = pts.map((p) => `${f1(X(p.x))},${f1(Y(p.y + (p.std ?? 0)))}`);
      const lower = pts.map((p) => `${f1(X(p.x))},${f1(Y(p.y - (p.std ?? 0)))}`).reverse();
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.16" stroke="none"/>`);
    }
    for (let j = 1; j < pts.length; j++) {
      const a = pts[j - 1]!;
      const b = pts[j]!;
      const dash = spec.dashedAfter !== undefined && b.x > spec.dashedAfter ? ' stroke-dasharray="4 4"' : '';
      out.push(`<line x1="${f1(X(a.x))}" y1="${f1(Y(a.y))}" x2="${f1(X(b.x))}" y2="${f1(Y(b.y))}" stroke="${color}" stroke-width="2.25" stroke-linecap="round"${dash}/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${f1(X(p.x))}" cy="${f1(Y(p.y))}" r="3.75" fill="${color}" stroke="#ffffff" stroke-width="1.5"><title>${xmlEscape(`${s.name}: ${yValue(p.y)}${p.std ? ` ± ${yValue(p.std)}` : ''}`)}</title></circle>`);
    }
    out.push('</g>');
  });

  const frame = { X, Y, left: m.left, top: m.top, pw, ph };
  const samples = dataSamples(spec, frame);
  const lg = legend(spec, frame, samples);
  out.push(lg.svg);
  out.push(lineLabels(spec, frame, samples, [lg.box], yValue));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

interface Frame {
  X: (x: number) => number;
  Y: (y: number) => number;
  left: number;
  top: number;
  pw: number;
  ph: number;
}

/** The legend box, in the plot corner that covers the fewest sampled data points. */
function legend(spec: LineChartSpec, fr: Frame, samples: [number, number][]): { svg: string; box: Box } {
  const entries = [
    ...spec.series.map((s, i) => ({ name: s.name, color: SERIES_COLORS[i % SERIES_COLORS.length]!, dash: '' })),
    ...(spec.hlines ?? []).map((h, i) => ({ name: h.name, color: LINE_STYLES[i % LINE_STYLES.length]!.color, dash: LINE_STYLES[i % LINE_STYLES.length]!.dash })),
  ];
  const rowH = 18;
  const w = Math.ceil(Math.max(...entries.map((e) => textWidth(e.name, 12))) + 44);
  const h = entries.length * rowH + 12;
  const pad = 10;
  const corners = [
    [fr.left + fr.pw - w - pad, fr.top + fr.ph - h - pad], // bottom right
    [fr.left + pad, fr.top + pad], // top left
    [fr.left + pad, fr.top + fr.ph - h - pad], // bottom left
    [fr.left + fr.pw - w - pad, fr.top + pad], // top right
  ] as const;
  let best = corners[0];
  let bestHits = Infinity;
  for (const c of corners) {
    const hits = countInside(samples, { x: c[0], y: c[1], w, h }, 4);
    if (hits < bestHits) { bestHits = hits; best = c; }
  }
  const [lx, ly] = best;
  const out = [`<g class="legend" font-size="12" fill="#1f2328">`,
    `<rect x="${f1(lx)}" y="${f1(ly)}" width="${w}" height="${h}" rx="4" fill="#ffffff" fill-opacity="0.92" stroke="#d0d7de"/>`];
  entries.forEach((e, i) => {
    const y = ly + 6 + rowH * i + rowH / 2;
    const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : '';
    out.push(`<line x1="${f1(lx + 10)}" x2="${f1(lx + 32)}" y1="${f1(y)}" y2="${f1(y)}" stroke="${e.color}" stroke-width="2.25"${dash}/>`);
    if (!e.dash) out.push(`<circle cx="${f1(lx + 21)}" cy="${f1(y)}" r="3.5" fill="${e.color}" stroke="#ffffff" stroke-width="1.25"/>`);
    out.push(`<text x="${f1(lx + 38)}" y="${f1(y)}" dominant-baseline="middle">${xmlEscape(e.name)}</text>`);
  });
  out.push('</g>');
  return { svg: out.join('\n'), box: { x: lx, y: ly, w, h } };
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function countInside(samples: [number, number][], b: Box, margin: number): number {
  let n = 0;
  for (const [x, y] of samples) if (x >= b.x - margin && x <= b.x + b.w + margin && y >= b.y - margin && y <= b.y + b.h + margin) n++;
  return n;
}

const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Points along every series line and band edge (and along the horizontal lines), in pixels. */
function dataSamples(spec: LineChartSpec, fr: Frame): [number, number][] {
  const samples: [number, number][] = [];
  for (const s of spec.series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x).map((p) => [fr.X(p.x), fr.Y(p.y), p.std ? fr.Y(p.y - p.std) - fr.Y(p.y) : 0] as const);
    for (let j = 0; j < pts.length; j++) {
      const [ax, ay, ad] = pts[j]!;
      const [bx, by, bd] = pts[j + 1] ?? pts[j]!;
      for (let t = 0; t <= 1; t += 0.05) {
        const x = ax + t * (bx - ax);
        const y = ay + t * (by - ay);
        const d = ad + t * (bd - ad);
        for (const f of [-1, -0.5, 0, 0.5, 1]) samples.push([x, y + f * d]);
      }
    }
  }
  for (const l of spec.hlines ?? []) for (let t = 0; t <= 1; t += 0.02) samples.push([fr.left + t * fr.pw, fr.Y(l.y)]);
  return samples;
}

/** "name 68.1%" beside each horizontal line: at its left or right end, above or below, where it hides least. */
function lineLabels(spec: LineChartSpec, fr: Frame, samples: [number, number][], taken: Box[], yValue: (y: number) => string): string {
  const out: string[] = [];
  (spec.hlines ?? []).forEach((h, i) => {
    const st = LINE_STYLES[i % LINE_STYLES.length]!;
    const text = `${h.name} ${yValue(h.y)}`;
    const w = textWidth(text, 11);
    const y = fr.Y(h.y);
    const cands: (Box & { anchor: 'start' | 'end' })[] = [];
    for (const dy of [-17, 3]) {
      cands.push({ x: fr.left + 6, y: y + dy, w, h: 14, anchor: 'start' });
      cands.push({ x: fr.left + fr.pw - 6 - w, y: y + dy, w, h: 14, anchor: 'end' });
    }
    let best = cands[0]!;
    let bestCost = Infinity;
    for (const c of cands) {
      const cost = countInside(samples, c, 2) + 1000 * taken.filter((b) => overlaps(b, c)).length;
      if (cost < bestCost) { bestCost = cost; best = c; }
    }
    taken.push(best);
    const tx = best.anchor === 'start' ? best.x : best.x + best.w;
    out.push(`<text class="hline-label" x="${f1(tx)}" y="${f1(best.y + 11)}" text-anchor="${best.anchor}" font-size="11" fill="${st.color}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${xmlEscape(text)}</text>`);
  });
  return out.join('\n');
}
