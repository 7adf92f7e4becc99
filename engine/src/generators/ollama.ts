/**
 * Ollama's native `/api/generate` backend. Ollama returns one sample per request, so N
 * samples are N parallel requests with different seeds; fill-in-the-middle through `suffix`.
 */
import type { GeneratorConfig } from '../protocol';
import type { RawSample } from '../postprocess';
import { badAnswer, joinUrl, probeHttp, problemFromError, readJsonObject, type Generator, type SampleRequest, type SampleResult } from './types';

export class OllamaGenerator implements Generator {
  constructor(readonly config: GeneratorConfig) {}

  private get base(): string {
    return this.config.url ?? 'http://127.0.0.1:11434';
  }

  private async one(req: SampleRequest, seed: number): Promise<RawSample> {
    const url = joinUrl(this.base, '/api/generate');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: this.config.model,
        prompt: req.prefix,
        suffix: req.suffix.length > 0 ? req.suffix : undefined,
        stream: false,
        options: { temperature: this.config.temperature ?? 0.8, top_p: 0.95, num_predict: this.config.maxTokens ?? 256, seed },
      }),
      signal: req.signal,
    });
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw badAnswer(`HTTP ${res.status} from ${url}: ${text}`);
    }
    const json = await readJsonObject(res, url, "an Ollama /api/generate answer");
    if (typeof json.response !== 'string') throw badAnswer(`${url} answered without a "response" text (${JSON.stringify(JSON.stringify(json).slice(0, 120))}): is it Ollama's /api/generate?`);
    return { text: json.response };
  }

  async sample(req: SampleRequest): Promise<SampleResult> {
    if (!this.config.model) {
      return { samples: [], problem: { code: 'config', message: 'Ollama needs a model name: set winnow.generator.model (for example "qwen2.5-coder:7b").' } };
    }
    const settled = await Promise.allSettled(Array.from({ length: req.n }, (_, i) => this.one(req, i + 1)));
    const samples = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (samples.length > 0 || !failed) return { samples };
    const e = failed.reason as Error & { http?: boolean };
    return { samples, problem: e.http ? { code: 'http', message: e.message } : problemFromError(e, this.base, req.signal) };
  }

  probe(timeoutMs: number) {
    return probeHttp(joinUrl(this.base, '/api/tags'), timeoutMs);
  }
}
