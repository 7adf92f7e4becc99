/**
 * OpenAI-compatible `/v1/completions` backend: llama.cpp's server, vLLM, LM Studio, Ollama's
 * `/v1`. Fill-in-the-middle through `suffix`. N samples through `n`; a server that returns
 * fewer choices than asked (llama.cpp answers one) gets the rest as parallel requests, and
 * that is remembered for the next time. Log-probabilities are kept when the server gives them.
 */
import type { GeneratorConfig } from '../protocol';
import type { RawSample } from '../postprocess';
import { badAnswer, joinUrl, probeHttp, problemFromError, readJsonObject, type Generator, type SampleRequest, type SampleResult } from './types';

interface Choice {
  text?: string;
  index?: number;
  logprobs?: { token_logprobs?: (number | null)[]; content?: { logprob?: number }[] } | null;
}

export function meanLogprobOf(choice: Choice): number | undefined {
  const lp = choice.logprobs;
  if (!lp) return undefined;
  const values = (lp.token_logprobs ?? lp.content?.map((c) => c.logprob) ?? []).filter(
    (v): v is number => typeof v === 'number' && Number.isFinite(v),
  );
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

export class OpenAIGenerator implements Generator {
  private supportsN = true;

  constructor(readonly config: GeneratorConfig) {}

  private get url(): string {
    return joinUrl(this.config.url ?? 'http://127.0.0.1:8080', '/v1/completions');
  }

  private async request(req: SampleRequest, n: number): Promise<RawSample[]> {
    const body: Record<string, unknown> = {
      prompt: req.prefix,
      suffix: req.suffix.length > 0 ? req.suffix : undefined,
      n,
      max_tokens: this.config.maxTokens ?? 256,
      temperature: this.config.temperature ?? 0.8,
      top_p: 0.95,
      logprobs: 1,
      stream: false,
    };
    if (this.config.model) body.model = this.config.model;
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: req.signal,
    });
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw badAnswer(`HTTP ${res.status} from ${this.url}: ${text}`);
    }
    const json = await readJsonObject(res, this.url, 'an OpenAI completions answer');
    if (!Array.isArray(json.choices)) throw badAnswer(`${this.url} answered without a "choices" list (${JSON.stringify(JSON.stringify(json).slice(0, 120))}): is it an OpenAI-compatible /v1/completions server?`);
    const choices = json.choices as Choice[];
    return choices
      .filter((c) => typeof c.text === 'string')
      .map((c) => {
        const meanLogprob = meanLogprobOf(c);
        return meanLogprob === undefined ? { text: c.text as string } : { text: c.text as string, meanLogprob };
      });
  }

  async sample(req: SampleRequest): Promise<SampleResult> {
    const samples: RawSample[] = [];
    try {
      if (this.supportsN) {
        samples.push(...(await this.request(req, req.n)));
        if (samples.length >= req.n || samples.length === 0) return { samples };
        this.supportsN = false; // the server ignored n; use parallel requests from now on
      }
      const missing = req.n - samples.length;
      const settled = await Promise.allSettled(Array.from({ length: missing }, () => this.request(req, 1)));
      for (const s of settled) if (s.status === 'fulfilled') samples.push(...s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (samples.length === 0 && failed) throw failed.reason;
      return { samples };
    } catch (e) {
      if ((e as { http?: boolean }).http) return { samples, problem: { code: 'http', message: (e as Error).message } };
      return { samples, problem: problemFromError(e, this.config.url ?? '', req.signal) };
    }
  }

  probe(timeoutMs: number) {
    return probeHttp(joinUrl(this.config.url ?? 'http://127.0.0.1:8080', '/v1/models'), timeoutMs);
  }
}
