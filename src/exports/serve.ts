import { ConfigError } from '../platform/errors.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CampaignRepository } from '../campaigns/repository.ts';
import { isCampaignId, type CampaignId } from '../campaigns/id.ts';
import { LimnerError } from '../errors.ts';
import type { ImageStore } from '../images/store.ts';
import type { Config, Secrets } from '../platform/config.ts';
import type { Logger } from '../platform/log.ts';
import { entryData, planExport, wholeStorybook, type ExportPlan } from './export.ts';
import { readStory } from './storybook.ts';

/** Shortest accepted `LIMNER_STORYBOOK_SECRET`, characters: a key anyone could guess would sign any link. */
const MIN_SECRET_CHARS = 32;
/** How long a campaign's planned page is reused, ms: pictures and quotes change rarely, pictures load many at once. */
const PLAN_CACHE_MS = 30_000;
const CAMPAIGN_PATH = /^\/campaigns\/([a-z0-9][a-z0-9-]{0,63})\/([^/]*)$/;

/** Serving is off, so there is no storybook link to give. */
export class StorybookNotServedError extends LimnerError {
  readonly code = 'storybook_not_served';
  constructor() {
    super('Storybook pages are not served here; the operator can switch them on with the storybook.port setting.');
  }
}

/** A signed link to a campaign's served storybook. */
export interface StorybookLink {
  readonly url: string;
  readonly expiresAt: Date;
}

/**
 * The signature of a link to one campaign's storybook: HMAC-SHA256 keyed by the secret over the
 * campaign id and the expiry, base64url. A link signed for one campaign opens no other.
 * @param expires - Unix time, seconds.
 */
export function signStorybook(secret: string, campaignId: string, expires: number): string {
  return createHmac('sha256', secret).update(`storybook\n${campaignId}\n${expires}`).digest('base64url');
}

/**
 * Whether `query` holds an unexpired signature for `campaignId` (`exp`, Unix seconds, and `sig`
 * from {@link signStorybook}), compared in constant time.
 * @param now - ms since the epoch.
 */
export function verifyStorybook(secret: string, campaignId: string, query: URLSearchParams, now: number): boolean {
  const exp = query.get('exp') ?? '';
  const sig = query.get('sig') ?? '';
  if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false;
  // Compared as text: base64url decoding ignores a last character's spare bits, so a tampered
  // signature could decode to the right bytes.
  const expected = Buffer.from(signStorybook(secret, campaignId, Number(exp)));
  const given = Buffer.from(sig);
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
}

/**
 * Serves campaign storybooks read-only over HTTP (`node:http`): `GET /campaigns/<id>/` answers the
 * page of {@link wholeStorybook}, whose pictures carry the same signed query, and
 * `GET /campaigns/<id>/<file>` one of its pictures. Anything without a valid, unexpired signature
 * for that campaign, and anything else, is 404, so a guessed address tells nothing.
 */
export class StorybookServer {
  private server: Server | undefined;
  private boundUrl: string | undefined;
  private readonly plans = new Map<string, { key: string; at: number; plan: ExportPlan }>();

  /** @param shard - Listens on `storybook.port` + shard, as the health endpoint does. */
  constructor(
    private readonly deps: {
      readonly settings: Config['storybook'];
      readonly secret: string;
      readonly campaigns: CampaignRepository;
      readonly images: ImageStore;
      readonly log: Logger;
      readonly shard?: number;
    },
  ) {}

  /**
   * Starts listening on `storybook.host` and the port.
   * @returns Where it listens, e.g. `http://127.0.0.1:8090`.
   * @throws the listen error (e.g. EADDRINUSE) when the port cannot be bound.
   */
  async start(): Promise<string> {
    const { settings } = this.deps;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.log.error({ err, path: req.url?.split('?')[0] }, 'storybook request failed');
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    const port = settings.port === 0 ? 0 : (settings.port ?? 0) + (this.deps.shard ?? 0);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.boundUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    return this.boundUrl;
  }

  /**
   * A link to a campaign's storybook, valid for `storybook.link_ttl_s`, on `storybook.public_url`
   * or else where the server listens.
   * @param now - ms since the epoch.
   * @throws Error when neither is known yet (port 0 and not started).
   */
  link(campaignId: CampaignId, now = Date.now()): StorybookLink {
    const base = this.deps.settings.public_url?.replace(/\/+$/, '') ?? this.boundUrl ?? this.configuredUrl();
    const expires = Math.floor(now / 1000) + this.deps.settings.link_ttl_s;
    const query = new URLSearchParams({ exp: String(expires), sig: signStorybook(this.deps.secret, campaignId, expires) });
    return { url: `${base}/campaigns/${campaignId}/?${query}`, expiresAt: new Date(expires * 1000) };
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  private configuredUrl(): string {
    const { host, port } = this.deps.settings;
    if (!port) throw new Error('the storybook server listens on a free port: start it before making links');
    return `http://${host.includes(':') ? `[${host}]` : host}:${port + (this.deps.shard ?? 0)}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://storybook.invalid');
    const match = CAMPAIGN_PATH.exec(url.pathname);
    const id = match?.[1];
    if (
      !match ||
      !id ||
      !isCampaignId(id) ||
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      !verifyStorybook(this.deps.secret, id, url.searchParams, Date.now())
    ) {
      return notFound(res);
    }
    const plan = await this.planOf(id);
    if (!plan) return notFound(res);
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-robots-tag': 'noindex' };
    let file: string;
    try {
      file = decodeURIComponent(match[2] ?? '');
    } catch {
      return notFound(res);
    }
    if (file === '') {
      const query = new URLSearchParams({ exp: url.searchParams.get('exp')!, sig: url.searchParams.get('sig')! });
      const page = wholeStorybook(plan, `?${query}`);
      res.writeHead(200, {
        ...common,
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'private, no-store',
        'content-security-policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
      });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    const entry = plan.parts.flatMap((p) => p.entries).find((e) => e.manifest.file === file);
    if (!entry) return notFound(res);
    res.writeHead(200, {
      ...common,
      'content-type': entry.manifest.format === 'png' ? 'image/png' : 'image/jpeg',
      'cache-control': 'private, max-age=3600',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(Readable.from(entryData(entry)), res);
  }

  /** The campaign's one-part plan, reused while its pictures are the same and for {@link PLAN_CACHE_MS}; undefined without pictures. */
  private async planOf(id: CampaignId): Promise<ExportPlan | undefined> {
    const images = await this.deps.images.list(id);
    if (images.length === 0) return undefined;
    const key = images.map((r) => r.id).join();
    const cached = this.plans.get(id);
    if (cached && cached.key === key && Date.now() - cached.at < PLAN_CACHE_MS) return cached.plan;
    const name = (await this.deps.campaigns.list()).find((c) => c.id === id)?.name ?? '';
    const { attribution, quotes } = await readStory(
      this.deps.campaigns,
      id,
      images.map((r) => r.turn),
    );
    const plan = await planExport({
      campaign: { id, name, attribution },
      images,
      quotes,
      storage: this.deps.images.storage,
    });
    this.plans.set(id, { key, at: Date.now(), plan });
    return plan;
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('not found\n');
}

/**
 * The storybook server the configuration asks for, not yet listening: null when `storybook.port`
 * is null (serving off).
 * @throws ConfigError when serving is on without a `LIMNER_STORYBOOK_SECRET` of at least 32 characters.
 */
export function storybookServer(
  config: Config,
  secrets: Secrets,
  deps: { campaigns: CampaignRepository; images: ImageStore; log: Logger; shard?: number },
): StorybookServer | null {
  if (config.storybook.port === null) return null;
  const secret = secrets.storybookSecret;
  if (!secret || secret.length < MIN_SECRET_CHARS) {
    throw new ConfigError([
      `storybook.port: serving storybooks needs LIMNER_STORYBOOK_SECRET in the environment, at least ${MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)`,
    ]);
  }
  return new StorybookServer({ settings: config.storybook, secret, ...deps });
}
