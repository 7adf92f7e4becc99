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
  /** Cheap reachability check for status; never throws. */
  probe(timeoutMs: number): Promise<{ reachable: boolean; problem?: GeneratorProblem }>;
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
export function joinUrl(base: string, pathWithV1: string): string {
  const b = base.replace(/\/+$/, '');
  if (pathWithV1.startsWith('/v1/') && /\/v1$/.test(b)) return b + pathWithV1.slice(3);
  return b + pathWithV1;
}

export async function probeHttp(url: string, timeoutMs: number): Promise<{ reachable: boolean; problem?: GeneratorProblem }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal });
    await res.body?.cancel();
    return { reachable: true };
  } catch (e) {
    return { reachable: false, problem: problemFromError(e, url, signal) };
  }
}
