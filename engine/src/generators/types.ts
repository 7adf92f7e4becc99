/** What every generator backend implements. */
import type { GeneratorConfig, GeneratorProblem } from '../protocol';
import type { RawSample } from '../postprocess';

export interface SampleRequest {
  prefix: string;
  suffix: string;
  languageId: string;
  n: number;
  /** Aborted when the latency budget is spent or the request is superseded. */
  signal: AbortSignal;
}

export interface SampleResult {
  samples: RawSample[];
  problem?: GeneratorProblem;
}

export interface Generator {
  readonly config: GeneratorConfig;
  sample(req: SampleRequest): Promise<SampleResult>;
  /** Cheap reachability check for status, with the models the server lists when it lists them; never throws. */
  probe(timeoutMs: number): Promise<ProbeResult>;
  /** A prompt the backend can answer, for the connection test (the recorded backend answers only its own tasks). */
  testPrompt?(): string | undefined;
}

/** Turns a fetch failure into a problem the user can act on. */
export function problemFromError(e: unknown, url: string, signal?: AbortSignal): GeneratorProblem {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (signal?.aborted || err.name === 'AbortError' || err.name === 'TimeoutError') {
    return { code: 'timeout', message: `The model server at ${url} did not answer within the latency budget.` };
  }
  const code = err.cause?.code ?? '';
  const detail = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : (err.cause?.message ?? err.message);
  return {
    code: 'unreachable',
    message: `Cannot reach the model server at ${url} (${detail}). Start your local model server (llama.cpp, Ollama, vLLM, LM Studio) or change winnow.generator.url.`,
  };
}

/** Builds `base + path`, tolerating a base with or without a trailing slash or `/v1`. */
/** The most a model server's answer may be; past it the answer is refused (a hostile or broken server). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** An error for a model server's answer (an HTTP error, or not what the API promises): reported as an `http` problem. */
export function badAnswer(message: string): Error {
  return Object.assign(new Error(message), { http: true });
}

/**
 * Reads a JSON object from a model server's answer, at most {@link MAX_RESPONSE_BYTES}; an
 * answer that is too long, not JSON or not an object fails with a message that says so and
 * shows its start (the problem the user sees), never as "0 candidates" without a word.
 */
export async function readJsonObject(res: Response, url: string, what: string): Promise<Record<string, unknown>> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw badAnswer(`${url} answered ${Math.round(declared / 1048576)} MB, more than ${MAX_RESPONSE_BYTES / 1048576} MB: not ${what}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw badAnswer(`${url} answered more than ${MAX_RESPONSE_BYTES / 1048576} MB: not ${what}`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const shown = JSON.stringify(text.slice(0, 120));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badAnswer(`${url} answered with something that is not JSON (${shown}): is winnow.generator.url the right server?`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badAnswer(`${url} answered JSON that is not ${what} (${shown})`);
  return json as Record<string, unknown>;
}

export function joinUrl(base: string, pathWithV1: string): string {
  const b = base.replace(/\/+$/, '');
  if (pathWithV1.startsWith('/v1/') && /\/v1$/.test(b)) return b + pathWithV1.slice(3);
  return b + pathWithV1;
}

export interface ProbeResult {
  reachable: boolean;
  /** Model names the server listed (empty when it lists none or its answer was not a list). */
  models?: string[];
  problem?: GeneratorProblem;
}

/**
 * GETs a model server's list of models (`/v1/models`: `data[].id`; Ollama's `/api/tags`:
 * `models[].name`). Any answer means reachable; a list that cannot be read gives no models.
 */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    return { reachable: false, problem: problemFromError(e, url, signal) };
  }
  try {
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const json = await readJsonObject(res, url, 'a list of models');
    const list = Array.isArray(json.data) ? json.data : Array.isArray(json.models) ? json.models : [];
    const models = list
      .map((m: unknown) => (typeof m === 'object' && m !== null ? ((m as { id?: unknown; name?: unknown }).id ?? (m as { name?: unknown }).name) : undefined))
      .filter((m: unknown): m is string => typeof m === 'string' && m.length > 0 && m.length <= 256)
      .slice(0, 100);
    return { reachable: true, models };
  } catch {
    await res.body?.cancel().catch(() => undefined);
    return { reachable: true, models: [] };
  }
}
