/**
 * `winnow train`, `winnow rankers`, `winnow activate`: through the running engine when there is
 * one (it trains in its worker and hot-swaps the result), and directly on the data folder
 * otherwise (the same worker and registry; activation then only records active.json, which the
 * next engine loads).
 */
import { EngineClient } from '../client';
import { paths } from '../discovery';
import { BUILTIN_VERSION } from '../features';
import { findEngine } from '../launcher';
import { createFileLog } from '../log';
import { DEFAULT_TRAINING, type ActivateReply, type RankersReply, type RankerVersionInfo, type TrainingSettings, type TrainProgress, type TrainSummary } from '../protocol';
import { Ranker } from '../ranker/ranker';
import { rememberedRewardModelId } from '../reward/service';
import { RankerRegistry } from '../ranker/registry';
import { TrainingSupervisor } from './supervisor';

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);

export function describeProgress(p: TrainProgress): string {
  const round = `round ${p.round}/${p.rounds}`;
  if (p.phase === 'training') return `${round}: epoch ${p.epoch}/${p.maxEpochs}, ${p.trainPairs} pairs, held-out ${p.heldOutPairs} pairs${p.heldOutAccuracy !== undefined ? `, early-stopping accuracy ${pct(p.heldOutAccuracy)}` : ''}`;
  return `${p.phase}${p.phase === 'mining' ? ` hard negatives for ${round}` : ''}`;
}

/** The end of a training as a few lines for people. */
export function describeSummary(s: TrainSummary): string {
  const lines = [`${s.outcome}${s.version ? ` ${s.version}` : ''}: ${s.reason}`];
  const src = Object.entries(s.triplets);
  if (src.length > 0) lines.push(`triplets: ${src.map(([k, n]) => `${k} ${n.train}+${n.validation}`).join(', ')} (train+held-out)`);
  if (s.heldOut) lines.push(`held-out pairwise accuracy: ${pct(s.heldOut.activeAccuracy)} (${s.heldOut.activeVersion}) → ${pct(s.heldOut.accuracy)} (new), ${s.heldOut.pairs} pairs`);
  for (const r of s.rounds) lines.push(`  round ${r.round}: ${r.trainPairs} pairs (${r.hardNegatives} hard negatives), ${r.epochs} epochs (best ${r.bestEpoch}), held-out ${pct(r.heldOutAccuracy)}`);
  lines.push(`took ${(s.trainMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

async function withEngine<T>(dataDir: string, f: (c: EngineClient) => Promise<T>): Promise<T | undefined> {
  const info = await findEngine(dataDir);
  if (!info) return undefined;
  const client = new EngineClient(info.endpoint, { pid: info.pid });
  try {
    return await f(client);
  } finally {
    client.close();
  }
}

export interface TrainCliOptions {
  rounds?: number;
  seed?: number;
  settings?: Partial<TrainingSettings>;
  onProgress?: (p: TrainProgress) => void;
}

/** Runs one training and returns its summary. */
export async function trainCommand(dataDir: string, o: TrainCliOptions): Promise<TrainSummary> {
  const settings = { ...DEFAULT_TRAINING, ...(o.settings ?? {}) };
  const req = { trigger: 'cli' as const, settings, ...(o.rounds !== undefined ? { rounds: o.rounds } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) };
  const viaEngine = await withEngine(dataDir, async (c) => {
    const started = await c.request('train', req, 10_000);
    if (!started.started) throw new Error(`a training (${started.jobId}) is already running on this engine; \`winnow rankers\` shows the result when it ends`);
    for (;;) {
      const st = await c.request('trainStatus', {}, 10_000);
      if (st.running?.jobId === started.jobId) o.onProgress?.(st.running);
      else if (st.last?.jobId === started.jobId) return st.last;
      else if (!st.running) throw new Error('the engine lost track of the training');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  if (viaEngine) return viaEngine;
  const log = createFileLog(paths(dataDir).log, false);
  const registry = new RankerRegistry(dataDir);
  registry.ensureBuiltin();
  const sup = new TrainingSupervisor({
    dataDir,
    log,
    active: () => {
      const v = registry.activeVersion() ?? BUILTIN_VERSION;
      return { version: v, file: registry.pathOf(v) };
    },
    activate: async (version, reason) => {
      const r = await Ranker.load(registry.pathOf(version), { device: 'cpu' });
      await r.dispose();
      registry.setActive(version, reason);
    },
  });
  // Trained with the reward model the engine uses (its remembered setting), as the engine would.
  const rewardModel = rememberedRewardModelId(dataDir);
  sup.start({ ...req, ...(rewardModel ? { rewardModel } : {}) });
  const timer = setInterval(() => {
    const p = sup.status().running;
    if (p) o.onProgress?.(p);
  }, 250);
  try {
    const summary = (await sup.current) as TrainSummary;
    // An engine started meanwhile serves the old version: have it switch too.
    if (summary.outcome === 'promoted' && summary.version) await withEngine(dataDir, (c) => c.request('activate', { version: summary.version as string }, 30_000)).catch(() => undefined);
    return summary;
  } finally {
    clearInterval(timer);
  }
}

export async function rankersCommand(dataDir: string): Promise<RankersReply> {
  const viaEngine = await withEngine(dataDir, (c) => c.request('rankers', {}, 10_000));
  if (viaEngine) return viaEngine;
  const registry = new RankerRegistry(dataDir);
  const active = registry.activeVersion() ?? BUILTIN_VERSION;
  return { active, versions: registry.listInfo() };
}

export function describeVersions(r: RankersReply): string {
  const row = (v: RankerVersionInfo) =>
    `${v.version === r.active ? '*' : ' '} ${v.version.padEnd(12)} ${v.builtin ? 'built-in'.padEnd(10) : v.family.padEnd(10)} ${v.featureSet.padEnd(6)} ` +
    (v.heldOut ? `held-out ${pct(v.heldOut.accuracy)} vs ${pct(v.heldOut.activeAccuracy)} (${v.heldOut.activeVersion}) on ${v.heldOut.pairs} pairs` : '').padEnd(52) +
    (v.createdAt > 0 ? ` ${new Date(v.createdAt).toISOString().slice(0, 16).replace('T', ' ')}` : '') +
    (v.decision ? `\n    ${v.decision.reason}` : '');
  return [`active: ${r.active}`, ...r.versions.map(row)].join('\n');
}

export async function activateCommand(dataDir: string, version: string): Promise<ActivateReply> {
  const viaEngine = await withEngine(dataDir, (c) => c.request('activate', { version }, 30_000));
  if (viaEngine) return viaEngine;
  const registry = new RankerRegistry(dataDir);
  if (!registry.has(version)) throw new Error(`no ranker version ${JSON.stringify(version)} in ${registry.dir} (winnow rankers lists them)`);
  const previous = registry.activeVersion() ?? BUILTIN_VERSION;
  const r = await Ranker.load(registry.pathOf(version), { device: 'cpu' });
  await r.dispose();
  registry.setActive(version, `activated by hand (was ${previous})`);
  return { active: version, previous };
}
