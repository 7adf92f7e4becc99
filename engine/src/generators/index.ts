/** Picks (and caches) the generator for a configuration. */
import type { GeneratorConfig } from '../protocol';
import { OllamaGenerator } from './ollama';
import { OpenAIGenerator } from './openai';
import { RecordedGenerator } from './recorded';
import type { Generator } from './types';

export type { Generator, SampleRequest, SampleResult } from './types';

export class Generators {
  private readonly cache = new Map<string, Generator>();

  get(config: GeneratorConfig): Generator {
    const key = JSON.stringify([config.backend, config.url, config.model, config.recordedPool, config.temperature, config.maxTokens, config.seed]);
    let g = this.cache.get(key);
    if (!g) {
      g = config.backend === 'openai' ? new OpenAIGenerator(config) : config.backend === 'ollama' ? new OllamaGenerator(config) : new RecordedGenerator(config);
      if (this.cache.size > 16) this.cache.clear();
      this.cache.set(key, g);
    }
    return g;
  }
}
