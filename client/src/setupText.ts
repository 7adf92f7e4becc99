/**
 * The first-run walkthrough's choices and words: the backend presets and the user settings each
 * writes, the candidate presets, the execution modes, and the connection test's message.
 * Pure (no `vscode` import), so that the unit tests can check them.
 */
import type { TestConnectionResult, WinnowSettings } from '../../server/src/protocol';

type Backend = WinnowSettings['generator']['backend'];

export interface BackendPreset {
  id: 'llamacpp' | 'ollama' | 'vllm' | 'lmstudio' | 'recorded';
  label: string;
  detail: string;
  backend: Backend;
  /** The server's usual URL on this machine; none for the recorded pool. */
  url?: string;
  /** Whether the server needs `winnow.generator.model` (llama.cpp serves the one model it loaded). */
  needsModel: boolean;
}

export const BACKEND_PRESETS: readonly BackendPreset[] = [
  { id: 'llamacpp', label: 'llama.cpp server', backend: 'openai', url: 'http://127.0.0.1:8080', needsModel: false, detail: 'llama-server -m model.gguf --port 8080' },
  { id: 'ollama', label: 'Ollama', backend: 'ollama', url: 'http://127.0.0.1:11434', needsModel: true, detail: "Ollama's native API, with a model you pulled (for example qwen2.5-coder:7b)" },
  { id: 'vllm', label: 'vLLM', backend: 'openai', url: 'http://127.0.0.1:8000', needsModel: true, detail: 'vllm serve <model>' },
  { id: 'lmstudio', label: 'LM Studio', backend: 'openai', url: 'http://127.0.0.1:1234', needsModel: true, detail: "LM Studio's local server, with the model you loaded" },
  { id: 'recorded', label: 'Recorded demo', backend: 'recorded', needsModel: false, detail: 'Replays samples from a JSONL pool file: no model server needed' },
];

/** What the user answered after picking a preset. */
export interface BackendAnswers {
  url?: string;
  model?: string;
  recordedPool?: string;
}

/**
 * The user settings (keys under `winnow.`) a backend choice writes. A model is written only for
 * a server that needs one, and only when given; a recorded pool only for the recorded demo.
 */
export function backendSettings(preset: BackendPreset, answers: BackendAnswers): Record<string, string> {
  if (preset.backend === 'recorded') {
    return { 'generator.backend': 'recorded', ...(answers.recordedPool ? { 'generator.recordedPool': answers.recordedPool } : {}) };
  }
  const url = (answers.url ?? preset.url ?? '').trim().replace(/\/+$/, '');
  const model = answers.model?.trim();
  return { 'generator.backend': preset.backend, 'generator.url': url, ...(preset.needsModel && model ? { 'generator.model': model } : {}) };
}

/** The preset the current settings match (same backend and port), to mark it in the pick. */
export function presetOf(backend: Backend, url: string): BackendPreset | undefined {
  if (backend === 'recorded') return BACKEND_PRESETS.find((p) => p.backend === 'recorded');
  const port = portOf(url);
  return BACKEND_PRESETS.find((p) => p.backend === backend && p.url !== undefined && portOf(p.url) === port);
}

function portOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.port || (u.protocol === 'https:' ? '443' : '80');
  } catch {
    return undefined;
  }
}

/** Why `text` is not a usable server URL, or undefined when it is (an InputBox's validation). */
export function urlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return 'Not a URL: write it as http://host:port';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'The URL must start with http:// or https://';
  if (!u.hostname) return 'The URL has no host';
  return undefined;
}

export interface CandidatePreset {
  name: string;
  candidates: number;
  latencyBudgetMs: number;
  detail: string;
}

export const CANDIDATE_PRESETS: readonly CandidatePreset[] = [
  { name: 'Fast', candidates: 4, latencyBudgetMs: 800, detail: 'Suggestions sooner, from fewer candidates: a small model, or a laptop' },
  { name: 'Balanced', candidates: 8, latencyBudgetMs: 1500, detail: 'The default' },
  { name: 'Thorough', candidates: 16, latencyBudgetMs: 3000, detail: 'More candidates to pick from, slower to appear: a fast GPU server' },
];

/** "Balanced: 8 candidates, 1500 ms". */
export function candidateLabel(p: CandidatePreset): string {
  return `${p.name}: ${p.candidates} candidates, ${p.latencyBudgetMs} ms`;
}

export const CANDIDATES_EXPLANATION =
  'Winnow learns how long your model server takes per candidate and asks for as many as fit in the budget (at most N); past the budget it shows nothing rather than slow your typing.';

export type ExecutionMode = 'off' | 'ask' | 'on';

/** The execution modes as the pick shows them (one line each; choosing `on` asks to confirm with {@link sandboxCaveat}). */
export const EXECUTION_CHOICES: readonly { mode: ExecutionMode; label: string; detail: string }[] = [
  { mode: 'off', label: 'Off', detail: 'Never run candidate code; the model and the ranker alone pick' },
  { mode: 'ask', label: 'Ask', detail: 'Ask once, with the first suggestion in a trusted workspace (the default)' },
  { mode: 'on', label: 'On', detail: 'Run candidates in the sandbox against docstring examples and tests (trusted workspaces only)' },
];

/** What the sandbox does not enforce where (docs/sandbox.md). */
export function sandboxCaveat(platform: string): string {
  return platform === 'linux'
    ? 'On Linux the network and file system isolation come from bubblewrap (bwrap) or user namespaces; without either, a candidate can read and write what you can and use the network.'
    : 'On this system the sandbox only limits time and output: a candidate can read and write what you can and use the network.';
}

/** The connection test's message: `ok` decides whether it shows as information or as an error. */
export function connectionText(r: TestConnectionResult): string {
  // For the recorded pool the engine "lists" the pool: its file name and task count.
  const where = r.backend === 'recorded' ? ['the recorded pool', r.models[0]].filter(Boolean).join(' ') : (r.url ?? r.backend);
  if (!r.ok) return `Winnow could not use ${where}: ${r.problem?.message ?? 'no answer'}`;
  const model = r.model && r.backend !== 'recorded' ? `model ${r.model} answered` : 'it answered';
  const time = r.sampleMs !== undefined ? ` in ${Math.round(r.sampleMs)} ms` : '';
  return `Connected to ${where}: ${model}${time}.${r.backend === 'recorded' ? '' : modelsText(r.models)}`;
}

function modelsText(models: readonly string[]): string {
  if (models.length === 0) return '';
  const shown = models.slice(0, 5).join(', ');
  return ` Models listed: ${shown}${models.length > 5 ? ` and ${models.length - 5} more` : ''}.`;
}
