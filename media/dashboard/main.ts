/**
 * The dashboard page, in the webview: it asks the extension for data (`ready`), draws each
 * `data` message, and posts `retrain` / `rollBack` for its buttons. It reads no files and
 * talks to nothing but the extension (client/src/dashboard/messages.ts).
 *
 * Charts are Chart.js, coloured from the theme's CSS variables (read again when the theme
 * changes); each canvas has an accessible name summarising it and a data table beside it.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartOptions,
  type ChartType,
  type Plugin,
} from 'chart.js';
import type { HostMessage, PageMessage } from '../../client/src/dashboard/messages';
import { progressFraction, progressText, summaryText } from '../../client/src/trainingText';
import type { DashboardResult } from '../../server/src/protocol';
import * as m from './model';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

interface BudgetLineOptions {
  /** Position on the category axis, in bins from its left edge; nothing is drawn when absent. */
  at?: number;
  label?: string;
  color?: string;
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    budgetLine?: BudgetLineOptions;
  }
}

declare function acquireVsCodeApi(): { postMessage(message: PageMessage): void };
const host = acquireVsCodeApi();

// ---- theme ---------------------------------------------------------------------------

interface Palette {
  fg: string;
  muted: string;
  grid: string;
  font: string;
  blue: string;
  green: string;
  red: string;
  yellow: string;
  orange: string;
  purple: string;
}

function readPalette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--vscode-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#9d9d9d'),
    grid: v('--vscode-panel-border', v('--vscode-widget-border', '#80808059')),
    font: v('--vscode-font-family', 'system-ui, sans-serif'),
    blue: v('--vscode-charts-blue', '#3794ff'),
    green: v('--vscode-charts-green', '#89d185'),
    red: v('--vscode-charts-red', '#f14c4c'),
    yellow: v('--vscode-charts-yellow', '#cca700'),
    orange: v('--vscode-charts-orange', '#d18616'),
    purple: v('--vscode-charts-purple', '#b180d7'),
  };
}

let palette = readPalette();
/** Bumped when the theme changes, so that every chart is drawn again in the new colours. */
let themeVersion = 0;

const EVENT_KINDS = ['shown', 'accepted', 'partially_accepted', 'rejected', 'survival', 'test_outcome'] as const;
const EVENT_LABELS: Record<(typeof EVENT_KINDS)[number], string> = {
  shown: 'Shown',
  accepted: 'Accepted',
  partially_accepted: 'Partially accepted',
  rejected: 'Rejected',
  survival: 'Survival checks',
  test_outcome: 'Test outcomes',
};
const eventColor = (k: (typeof EVENT_KINDS)[number]): string =>
  ({ shown: palette.blue, accepted: palette.green, partially_accepted: palette.yellow, rejected: palette.red, survival: palette.purple, test_outcome: palette.orange })[k];
const seriesColor = (i: number): string => [palette.blue, palette.green, palette.orange, palette.purple, palette.yellow, palette.red][i % 6]!;
const partColor = (p: m.LatencyPart): string => ({ generate: palette.blue, execute: palette.orange, score: palette.purple, hop: palette.yellow })[p];

// ---- DOM helpers ---------------------------------------------------------------------

type Child = Node | string | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) e.setAttribute(k, '');
    else if (v !== false) e.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== false) e.append(c);
  return e;
}

/** A figure: `<dt>` label, `<dd>` value; the value carries `data-testid` and the raw number in `data-value`. */
function stat(label: string, value: number | string, testId?: string, detail?: string): HTMLElement {
  const attrs: Record<string, string> = testId ? { 'data-testid': testId } : {};
  if (typeof value === 'number') attrs['data-value'] = String(value);
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', attrs, typeof value === 'number' ? m.count(value) : value), detail && h('dd', { class: 'detail' }, detail));
}

interface TableData {
  head: string[];
  rows: (string | number)[][];
  /** Columns that hold numbers (right-aligned). */
  numeric?: number[];
}

function fillTable(table: HTMLTableElement, caption: string, data: TableData): void {
  const head = h('thead', {}, h('tr', {}, ...data.head.map((c) => h('th', { scope: 'col' }, c))));
  const body = h(
    'tbody',
    {},
    ...data.rows.map((r) =>
      h('tr', {}, ...r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, String(c)) : h('td', data.numeric?.includes(i) ? { class: 'num' } : {}, typeof c === 'number' ? m.count(c) : c)))),
    ),
  );
  table.replaceChildren(h('caption', { class: 'visually-hidden' }, caption), head, body);
}

/** One chart: its title, the canvas (role img, named by a summary), a note when there is nothing to draw, and its data table. */
class ChartSlot {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly box: HTMLElement;
  private readonly note: HTMLElement;
  private readonly table: HTMLTableElement;
  private chart: Chart<'bar' | 'line', (number | null)[], string> | undefined;
  private drawn = '';

  constructor(
    readonly id: string,
    private readonly title: string,
  ) {
    this.canvas = h('canvas', { role: 'img', 'aria-label': title, 'data-testid': `chart-${id}` });
    this.box = h('div', { class: 'chart-box' }, this.canvas);
    this.note = h('p', { class: 'note', hidden: true });
    this.table = h('table');
    this.root = h(
      'figure',
      { class: 'chart', 'aria-labelledby': `${id}-title` },
      h('figcaption', { id: `${id}-title` }, title),
      this.box,
      this.note,
      h('details', {}, h('summary', {}, `Data: ${title.toLowerCase()}`), h('div', { class: 'table-wrap' }, this.table)),
    );
  }

  /** Draws `config` unless the same data was drawn already in the same theme. */
  show(config: ChartConfiguration<'bar' | 'line', (number | null)[], string>, summary: string, table: TableData): void {
    this.box.hidden = false;
    this.note.hidden = true;
    this.canvas.setAttribute('aria-label', `${this.title}. ${summary}`);
    const key = `${themeVersion}:${config.type}:${JSON.stringify(config.data)}:${JSON.stringify(config.options?.plugins?.budgetLine ?? null)}`;
    if (key !== this.drawn) {
      this.chart?.destroy();
      this.chart = new Chart(this.canvas, config);
      this.drawn = key;
    }
    fillTable(this.table, this.title, table);
  }

  /** Nothing to draw: the note says why, the table is empty. */
  empty(message: string): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.drawn = '';
    this.box.hidden = true;
    this.note.hidden = false;
    this.note.textContent = message;
    this.table.replaceChildren();
  }
}

// ---- charts --------------------------------------------------------------------------

/** A dashed vertical line at `options.plugins.budgetLine.at` (the latency budget on the histogram). */
const budgetLine: Plugin<'bar' | 'line', BudgetLineOptions> = {
  id: 'budgetLine',
  afterDatasetsDraw(chart, _args, opts) {
    const x = chart.scales.x;
    const n = chart.data.labels?.length ?? 0;
    if (opts.at === undefined || !x || n === 0) return;
    const band = n > 1 ? x.getPixelForValue(1) - x.getPixelForValue(0) : x.width;
    const px = x.getPixelForValue(0) - band / 2 + opts.at * band;
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = opts.color ?? palette.red;
    ctx.fillStyle = opts.color ?? palette.red;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, bottom);
    ctx.stroke();
    ctx.font = `12px ${palette.font}`;
    const right = px > chart.chartArea.left + chart.chartArea.width * 0.7;
    ctx.textAlign = right ? 'right' : 'left';
    ctx.fillText(opts.label ?? '', px + (right ? -6 : 6), top + 12);
    ctx.restore();
  },
};

interface AxisOptions {
  stacked?: boolean;
  /** y axis as a percentage 0..100. */
  percent?: boolean;
  horizontal?: boolean;
  legend?: boolean;
}

function chartOptions(o: AxisOptions = {}): ChartOptions<'bar' | 'line'> {
  const axis = (values: boolean) => ({
    stacked: o.stacked ?? false,
    ...(values ? { beginAtZero: true, ...(o.percent ? { max: 100 } : {}) } : {}),
    ticks: { color: palette.muted, ...(values ? { precision: 0, ...(o.percent ? { callback: (v: string | number) => `${v}%` } : {}) } : { maxRotation: 0, autoSkipPadding: 12 }) },
    grid: { color: palette.grid, display: values },
    border: { color: palette.grid },
  });
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: o.horizontal ? 'y' : 'x',
    interaction: { mode: 'index', intersect: false },
    font: { family: palette.font },
    color: palette.fg,
    plugins: {
      legend: { display: o.legend ?? false, labels: { color: palette.fg, boxWidth: 12, boxHeight: 12 } },
      tooltip: { ...(o.percent ? { callbacks: { label: (c) => `${c.dataset.label ?? ''}: ${c.parsed[o.horizontal ? 'x' : 'y'] === null ? '—' : `${(c.parsed[o.horizontal ? 'x' : 'y'] ?? 0).toFixed(1)}%`}` } } : {}) },
    },
    scales: { x: axis(!!o.horizontal), y: axis(!o.horizontal) },
  };
}

function barDataset(label: string, data: (number | null)[], color: string) {
  return { label, data, backgroundColor: color, borderColor: color, borderWidth: 0, stack: 'all' };
}

// ---- page skeleton -------------------------------------------------------------------

const root = document.getElementById('dashboard') ?? document.body;
const updated = h('p', { class: 'updated' });
const banner = h('div', { class: 'banner', role: 'status', hidden: true, 'data-testid': 'banner' });
const live = h('div', { class: 'visually-hidden', 'aria-live': 'polite', 'data-testid': 'live' });

function section(id: string, title: string, intro?: string): { el: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'section-body' });
  const el = h('section', { id, 'aria-labelledby': `${id}-h`, 'data-testid': `section-${id}` }, h('h2', { id: `${id}-h` }, title), intro && h('p', { class: 'intro' }, intro), body);
  return { el, body };
}

const dataset = section('dataset', 'Dataset', 'What Winnow has recorded: completions, what you did with each suggestion, and the training triplets built from them. Totals are all-time.');
const datasetStats = h('div', { class: 'stat-groups' });
const charts = {
  completions: new ChartSlot('completions', 'Completions'),
  events: new ChartSlot('events', 'Feedback events by kind'),
  triplets: new ChartSlot('triplets', 'Training triplets by source'),
  acceptance: new ChartSlot('acceptance', 'Acceptance rate'),
  languages: new ChartSlot('languages', 'Acceptance rate by language'),
  ranks: new ChartSlot('ranks', 'Suggestions shown and kept, by rank'),
  latency: new ChartSlot('latency', 'Latency of the last completions'),
};
dataset.body.append(datasetStats, h('div', { class: 'charts' }, charts.completions.root, charts.events.root, charts.triplets.root));

const acceptance = section('acceptance', 'Acceptance', 'Suggestions kept (accepted whole or in part) out of those shown.');
const acceptanceStats = h('dl', { class: 'stats' });
acceptance.body.append(acceptanceStats, h('div', { class: 'charts' }, charts.acceptance.root, charts.languages.root, charts.ranks.root));

const rankers = section('rankers', 'Ranker versions', 'Each training writes a version; it becomes active only when it beats the active one on held-out pairs (or when you pick it).');
const retrainButton = h('button', { type: 'button', 'data-testid': 'retrain' }, 'Retrain Ranker');
const rollBackButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'roll-back' }, 'Roll Back…');
retrainButton.addEventListener('click', () => host.postMessage({ type: 'retrain' }));
rollBackButton.addEventListener('click', () => host.postMessage({ type: 'rollBack' }));
const trainingBox = h('div', { class: 'training', 'data-testid': 'training' });
const rankersTable = h('table', { class: 'rankers', 'data-testid': 'rankers-table' });
rankers.body.append(h('div', { class: 'actions' }, retrainButton, rollBackButton), trainingBox, h('div', { class: 'table-wrap' }, rankersTable));

const latency = section('latency', 'Latency', 'How long completions took, split into generation, running candidates against tests, scoring (post-processing, reward model, ranker) and the hop between the language server and the engine.');
const latencyStats = h('dl', { class: 'stats' });
const samplingNote = h('p', { class: 'note' });
latency.body.append(latencyStats, samplingNote, h('div', { class: 'charts wide' }, charts.latency.root));

const execution = section('execution', 'Execution', 'Candidates run against the docstring, project and model-written tests in the sandbox (when execution is on), over the same window.');
const executionStats = h('dl', { class: 'stats' });
execution.body.append(executionStats);

const engine = section('engine', 'Engine');
const engineStats = h('dl', { class: 'facts' });
engine.body.append(engineStats);

const dataSections = [dataset.el, acceptance.el, latency.el, execution.el];
const allSections = [dataset.el, acceptance.el, rankers.el, latency.el, execution.el, engine.el];
root.replaceChildren(h('header', {}, h('h1', {}, 'Winnow'), updated), banner, live, ...allSections);
root.setAttribute('aria-busy', 'false');
for (const s of allSections) s.hidden = true;

// ---- rendering -----------------------------------------------------------------------

let last: HostMessage | undefined;
let announced = '';
let wasTraining = false;

function announce(text: string): void {
  if (text === announced) return;
  announced = text;
  live.textContent = text;
}

function render(msg: HostMessage): void {
  if (msg.type === 'unavailable') {
    showBanner(msg.message);
    for (const s of allSections) s.hidden = true;
    retrainButton.disabled = rollBackButton.disabled = true;
    return;
  }
  const d = msg.data;
  updated.textContent = `Updated ${new Date(d.time).toLocaleTimeString()}${d.insights ? ` · history since ${new Date(d.insights.since).toLocaleDateString()}` : ''}`;
  showBanner(m.bannerText(d));
  retrainButton.disabled = rollBackButton.disabled = d.state !== 'ready';
  const ins = d.insights;
  for (const s of dataSections) s.hidden = !ins;
  if (ins) {
    renderDataset(ins);
    renderAcceptance(ins);
    renderLatency(d, ins);
    renderExecution(ins);
  }
  rankers.el.hidden = !d.rankers && !d.training;
  renderRankers(d);
  engine.el.hidden = !d.engine;
  renderEngine(d);
}

function showBanner(text: string | undefined): void {
  banner.hidden = !text;
  banner.textContent = text ?? '';
}

type Insights = NonNullable<DashboardResult['insights']>;

function renderDataset(ins: Insights): void {
  const labels = m.bucketLabels(ins.buckets, ins.bucketMs);
  const unit = m.bucketUnit(ins.bucketMs);
  const t = ins.totals;
  const kinds = EVENT_KINDS.filter((k) => t.events[k] !== undefined || ins.growth.events[k] !== undefined);
  const tripletTotal = m.sum(Object.values(t.triplets));
  const sources = Object.keys(t.triplets).sort((a, b) => (t.triplets[b] ?? 0) - (t.triplets[a] ?? 0) || a.localeCompare(b));
  datasetStats.replaceChildren(
    h('dl', { class: 'stats' }, stat('Completions', t.completions, 'total-completions'), stat('Feedback events', m.sum(Object.values(t.events).map((n) => n ?? 0)), 'total-events')),
    h('dl', { class: 'stats' }, ...kinds.map((k) => stat(EVENT_LABELS[k], t.events[k] ?? 0, `total-events-${k.replace(/_/g, '-')}`))),
    h(
      'dl',
      { class: 'stats' },
      stat('Triplets', tripletTotal, 'total-triplets', t.tripletsBuiltAt ? `built ${new Date(t.tripletsBuiltAt).toLocaleString()}` : 'not built yet'),
      ...sources.map((s) => stat(m.words(s), t.triplets[s] ?? 0, `total-triplets-${s.replace(/_/g, '-')}`)),
    ),
  );

  const c = ins.growth.completions;
  charts.completions.show(
    { type: 'bar', data: { labels, datasets: [barDataset('Completions', c, palette.blue)] }, options: chartOptions() },
    m.seriesSummary('completions', c, labels, unit),
    { head: [unit, 'Completions'], rows: labels.map((l, i) => [l, c[i] ?? 0]), numeric: [1] },
  );

  const zeros = labels.map(() => 0);
  showStacked(
    charts.events,
    kinds.map((k) => ({ label: EVENT_LABELS[k], values: ins.growth.events[k] ?? zeros, color: eventColor(k) })),
    labels,
    `over the last ${labels.length} ${unit}s.`,
    unit,
  );
  if (sources.length === 0) charts.triplets.empty('No training triplets stored yet: they are built from your feedback (Export Dataset builds them too).');
  else {
    showStacked(
      charts.triplets,
      sources.map((s, i) => ({ label: m.words(s), values: ins.growth.triplets[s] ?? zeros, color: seriesColor(i) })),
      labels,
      `over the last ${labels.length} ${unit}s, by the time of their completion.`,
      unit,
    );
  }
}

/** A stacked bar chart of several series per bucket, with its summary ("label: total, …") and table. */
function showStacked(slot: ChartSlot, series: { label: string; values: number[]; color: string }[], labels: string[], summaryEnd: string, unit: string): void {
  slot.show(
    { type: 'bar', data: { labels, datasets: series.map((x) => barDataset(x.label, x.values, x.color)) }, options: chartOptions({ stacked: true, legend: true }) },
    `${series.map((x) => `${x.label}: ${m.count(m.sum(x.values))}`).join(', ')} ${summaryEnd}`,
    { head: [unit, ...series.map((x) => x.label)], rows: labels.map((l, i) => [l, ...series.map((x) => x.values[i] ?? 0)]), numeric: series.map((_, i) => i + 1) },
  );
}

const pctOrDash = (r: number | null): string => (r === null ? '—' : m.pct(r));
const percent = (r: number | null): number | null => (r === null ? null : 100 * r);

function renderAcceptance(ins: Insights): void {
  const a = ins.acceptance;
  const labels = m.bucketLabels(ins.buckets, ins.bucketMs);
  const unit = m.bucketUnit(ins.bucketMs);
  const all = m.overallAcceptance(a);
  const ranks = m.rankRates(a.byRank);
  acceptanceStats.replaceChildren(
    stat('Acceptance rate', pctOrDash(all.rate), 'acceptance-rate', `${m.count(all.kept)} kept of ${m.count(all.shown)} shown`),
    stat('First pick kept', pctOrDash(ranks.firstPick), 'first-pick', 'of the suggestions you kept, the ranker’s first choice'),
    stat('Kept after cycling', ranks.firstPick === null ? '—' : m.pct(1 - ranks.firstPick), 'cycled', 'you cycled to another candidate'),
  );

  const rates = m.acceptanceRates(a);
  const withData = rates.filter((r): r is number => r !== null);
  charts.acceptance.show(
    {
      type: 'line',
      data: { labels, datasets: [{ label: 'Acceptance rate', data: rates.map(percent), borderColor: palette.green, backgroundColor: palette.green, pointRadius: 2, spanGaps: false }] },
      options: chartOptions({ percent: true }),
    },
    withData.length === 0
      ? `Nothing shown in the last ${labels.length} ${unit}s.`
      : `${pctOrDash(all.rate)} over the last ${labels.length} ${unit}s; from ${m.pct(Math.min(...withData))} to ${m.pct(Math.max(...withData))} per ${unit}.`,
    { head: [unit, 'Shown', 'Kept', 'Rate'], rows: labels.map((l, i) => [l, a.shown[i] ?? 0, (a.accepted[i] ?? 0) + (a.partial[i] ?? 0), pctOrDash(rates[i] ?? null)]), numeric: [1, 2, 3] },
  );

  const langs = m.languageRates(a.byLanguage);
  if (langs.length === 0) charts.languages.empty('No suggestions shown yet.');
  else {
    charts.languages.show(
      { type: 'bar', data: { labels: langs.map((l) => l.label), datasets: [barDataset('Acceptance rate', langs.map((l) => percent(l.rate)), palette.green)] }, options: chartOptions({ percent: true, horizontal: true }) },
      langs.map((l) => `${l.label} ${pctOrDash(l.rate)} of ${m.count(l.shown)}`).join(', ') + '.',
      { head: ['Language', 'Shown', 'Kept', 'Rate'], rows: langs.map((l) => [l.label, l.shown, l.kept, pctOrDash(l.rate)]), numeric: [1, 2, 3] },
    );
  }

  if (ranks.rows.length === 0) charts.ranks.empty('No suggestions shown yet.');
  else {
    const rankLabel = (r: number): string => (r === 0 ? 'first pick' : `#${r + 1}`);
    charts.ranks.show(
      {
        type: 'bar',
        data: {
          labels: ranks.rows.map((r) => rankLabel(r.rank)),
          datasets: [
            { ...barDataset('Shown', ranks.rows.map((r) => r.shown), palette.blue), stack: 'shown' },
            { ...barDataset('Kept', ranks.rows.map((r) => r.kept), palette.green), stack: 'kept' },
          ],
        },
        options: chartOptions({ legend: true }),
      },
      `The first pick was kept in ${pctOrDash(ranks.firstPick)} of the suggestions kept; ` + ranks.rows.map((r) => `${rankLabel(r.rank)}: ${m.count(r.kept)} kept of ${m.count(r.shown)} shown`).join(', ') + '.',
      { head: ['Rank', 'Shown', 'Kept', 'Kept when shown', 'Share of all kept'], rows: ranks.rows.map((r) => [rankLabel(r.rank), r.shown, r.kept, pctOrDash(r.rate), pctOrDash(r.share)]), numeric: [1, 2, 3, 4] },
    );
  }
}

function renderLatency(d: DashboardResult, ins: Insights): void {
  const budget = d.settings.latencyBudgetMs;
  const hist = m.latencyHistogram(ins.latency);
  const cache = d.cache;
  const asked = cache.typeahead + cache.recent + cache.engine;
  latencyStats.replaceChildren(
    stat('Median', hist.n ? m.ms(hist.p50) : '—', 'latency-p50'),
    stat('90th percentile', hist.n ? m.ms(hist.p90) : '—', 'latency-p90'),
    stat('Budget', m.ms(budget), 'latency-budget', 'winnow.latencyBudgetMs'),
    ...m.nUsed(ins.latency).map((n) =>
      stat(n.trigger === 'auto' ? 'N while typing' : 'N when asked', n.meanN.toFixed(1), `n-${n.trigger}`, `mean candidates of ${n.meanAsked.toFixed(1)} allowed, ${m.count(n.completions)} completions`),
    ),
    stat('From the cache', asked ? m.pct((cache.typeahead + cache.recent) / asked) : '—', 'cache', `type-ahead ${m.count(cache.typeahead)} · repeated ${m.count(cache.recent)} · engine ${m.count(cache.engine)} (this window)`),
  );
  samplingNote.textContent = m.samplingText(d.sampling);

  if (hist.n === 0) {
    charts.latency.empty('No completions timed yet.');
    return;
  }
  const parts = hist.bins.map(m.stackedParts);
  const at = m.budgetPosition(hist, budget);
  const options = chartOptions({ stacked: true, legend: true });
  options.plugins = {
    ...options.plugins,
    budgetLine: { ...(at !== undefined ? { at } : {}), label: `budget ${m.ms(budget)}`, color: palette.red },
    tooltip: {
      callbacks: {
        title: (items) => {
          const bin = hist.bins[items[0]?.dataIndex ?? 0];
          return bin ? `${m.binLabel(bin)}: ${m.count(bin.count)} completions` : '';
        },
        label: (c) => {
          const p = m.LATENCY_PARTS[c.datasetIndex];
          const bin = hist.bins[c.dataIndex];
          return p && bin ? `${m.PART_LABELS[p]}: mean ${m.ms(bin.mean[p])}` : '';
        },
      },
    },
  };
  options.scales = { ...options.scales, y: { ...options.scales?.y, title: { display: true, text: 'completions', color: palette.muted } } };
  charts.latency.show(
    {
      type: 'bar',
      data: { labels: hist.bins.map(m.binLabel), datasets: m.LATENCY_PARTS.map((p) => ({ ...barDataset(m.PART_LABELS[p], parts.map((x) => x[p]), partColor(p)), barPercentage: 1, categoryPercentage: 0.95 })) },
      options,
      plugins: [budgetLine],
    },
    `${m.latencySummary(hist, ins.latency, budget)} Each bar is split by the mean share of generation, execution, scoring and hop in it.`,
    {
      head: ['Total time', 'Completions', 'Generation (mean)', 'Execution (mean)', 'Scoring (mean)', 'Hop (mean)'],
      rows: hist.bins.map((b) => [m.binLabel(b), b.count, ...m.LATENCY_PARTS.map((p) => (b.count ? m.ms(b.mean[p]) : '—'))]),
      numeric: [1, 2, 3, 4, 5],
    },
  );
}

function renderExecution(ins: Insights): void {
  const e = ins.execution;
  executionStats.replaceChildren(
    stat('Completions run', e.requests, 'execution-requests'),
    stat('Candidates run', e.candidatesRan, 'execution-ran'),
    stat('Passed', e.candidatesPassed, 'execution-passed', e.candidatesRan ? `${m.pct(e.candidatesPassed / e.candidatesRan)} of those run` : undefined),
    stat('Pick changed', e.requests ? m.pct(e.changedPick / e.requests) : '—', 'execution-changed', `${m.count(e.changedPick)} completions whose first pick the tests changed`),
  );
}

function renderRankers(d: DashboardResult): void {
  const running = d.training?.running;
  if (running) {
    trainingBox.replaceChildren(
      h('p', {}, h('strong', {}, 'Training: '), progressText(running)),
      h('progress', { max: '1', value: String(progressFraction(running)), 'aria-label': 'Training progress' }),
    );
    announce(`Training the ranker: round ${running.round + 1} of ${running.rounds + 1}.`);
  } else {
    const lastRun = d.training?.last;
    trainingBox.replaceChildren(...(lastRun ? [h('p', { class: 'note' }, `Last training (${new Date(lastRun.finishedAt).toLocaleString()}): ${summaryText(lastRun).text}`)] : []));
    if (wasTraining) announce(lastRun ? `Training ended: ${lastRun.outcome}${lastRun.version ? ` ${lastRun.version}` : ''}.` : 'Training ended.');
  }
  wasTraining = !!running;

  if (!d.rankers) {
    rankersTable.replaceChildren();
    return;
  }
  const rows = m.rankerRows(d.rankers, d.time);
  fillTable(rankersTable, 'Ranker versions', {
    head: ['Version', 'Created', 'Trained on (pairs)', 'Held-out pairwise accuracy (vs active then)', 'Decision', 'Active'],
    rows: rows.map((r) => [r.version, r.created, r.pairs ?? '—', r.heldOut, r.decision, r.active ? 'active' : '']),
    numeric: [2],
  });
  rows.forEach((r, i) => {
    const tr = rankersTable.tBodies[0]?.rows[i];
    if (tr && r.active) tr.classList.add('active');
    if (tr && !r.builtin) tr.cells[1]?.setAttribute('title', new Date(r.createdAt).toLocaleString());
  });
}

function renderEngine(d: DashboardResult): void {
  const e = d.engine;
  if (!e) return;
  const facts: [string, string, string?][] = [
    ['Device', `${e.device.toUpperCase()} — ${e.deviceReason}`, 'device'],
    ['Active ranker', e.rankerVersion + (e.rankerNote ? ` (${e.rankerNote})` : '')],
  ];
  const r = e.rewardModel;
  if (r && r.state !== 'none') {
    const figures = [r.device?.toUpperCase(), r.precision, r.p50Ms !== undefined ? `p50 ${m.ms(r.p50Ms)}` : undefined, `${m.count(r.inTime)} in time, ${m.count(r.late)} late`].filter(Boolean).join(' · ');
    facts.push(['Reward model', `${r.name ?? r.path}: ${r.state}${figures ? ` (${figures})` : ''}${r.problem ? ` — ${r.problem}` : ''}`, 'reward-model']);
  } else facts.push(['Reward model', 'none (winnow.ranker.rewardModel)', 'reward-model']);
  const g = e.generator;
  if (g) facts.push(['Generator', `${g.backend}${g.url ? ` ${g.url}` : ''}: ${g.reachable ? 'reachable' : `not reachable${g.problem ? ` — ${g.problem.message}` : ''}`}`]);
  const s = e.store;
  if (s) facts.push(['Store', `${s.liveMB.toFixed(1)} MB of ${m.count(s.maxSizeMB)} MB${s.held ? ` · ${m.count(s.held)} records held in memory` : ''}${s.problem ? ` — ${s.problem}` : ''}`]);
  facts.push(['Engine', `pid ${e.pid} · ${m.count(e.requestsServed)} requests served · data in ${e.dataDir}`]);
  if (d.insights) facts.push(['Dashboard queries', m.ms(d.insights.queryMs)]);
  engineStats.replaceChildren(...facts.map(([k, v, id]) => h('div', {}, h('dt', {}, k), h('dd', id ? { 'data-testid': id } : {}, v))));
}

// ---- wiring ----------------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data as HostMessage | undefined;
  if (msg?.type !== 'data' && msg?.type !== 'unavailable') return;
  last = msg;
  render(msg);
});

// A theme change sets new CSS variables on <html> and, for a change of kind, a new class on <body>.
const themeObserver = new MutationObserver(() => {
  const next = readPalette();
  if (JSON.stringify(next) === JSON.stringify(palette)) return;
  palette = next;
  themeVersion++;
  if (last) render(last);
});
themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

host.postMessage({ type: 'ready' });
