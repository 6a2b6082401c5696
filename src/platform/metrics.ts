import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Limner's Prometheus metrics (prom-client), one registry per process. Served as text by the
 * health endpoint at `/metrics`.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Jobs by kind and outcome (`succeeded`, `failed`, `refused`). */
  readonly jobs = new Counter({
    name: 'limner_jobs_total',
    help: 'Jobs by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'limner_queue_depth', help: 'Jobs waiting in the queue', registers: [this.registry] });
  readonly jobsRunning = new Gauge({ name: 'limner_jobs_running', help: 'Jobs running now', registers: [this.registry] });
  /** Seconds per model call, including the SDK's retries. */
  readonly modelLatency = new Histogram({
    name: 'limner_model_call_seconds',
    help: 'Duration of Gemini calls, retries included',
    labelNames: ['model', 'outcome'] as const,
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    registers: [this.registry],
  });
  readonly costUsd = new Counter({
    name: 'limner_model_cost_usd_total',
    help: 'Estimated spend in USD',
    labelNames: ['model', 'purpose'] as const,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'limner_model_tokens_total',
    help: 'Tokens by model and direction',
    labelNames: ['model', 'direction'] as const,
    registers: [this.registry],
  });
  /**
   * Discord REST requests held back by a rate limit (`global`: discord.js's 50 a second across all
   * routes), counted each time discord.js waits.
   */
  readonly discordRateLimited = new Counter({
    name: 'limner_discord_rate_limited_total',
    help: 'Discord REST requests held by a rate limit',
    labelNames: ['global'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'limner_' });
  }
}
