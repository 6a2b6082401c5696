import busboy from 'busboy';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UploadFile } from './types.ts';

const DISCORD_EPOCH = 1_420_070_400_000n;
let lastSnowflake = 0n;

/** A real-looking snowflake (ms since the Discord epoch << 22), strictly increasing within the process. */
export function snowflake(): string {
  let id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
  // Ordering by id must equal creation order: pagination and tests rely on it.
  if (id <= lastSnowflake) id = lastSnowflake + 1n;
  lastSnowflake = id;
  return id.toString();
}

let pastCounter = 0n;
/** A snowflake minted for a moment in the past (ms since the epoch): unique, but outside the creation order. */
export function snowflakeAt(ms: number): string {
  pastCounter = (pastCounter + 1n) & 0xfffn;
  return (((BigInt(ms) - DISCORD_EPOCH) << 22n) | pastCounter).toString();
}

/** Snowflake comparison without precision loss. */
export const compareIds = (a: string, b: string): number => {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

/** An error answered to the client as Discord's JSON error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
  ) {
    super(message);
  }
  get body(): unknown {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

export const notFound = (code: number, what: string): ApiError => new ApiError(404, code, `Unknown ${what}`);

/** Discord's 50035 with one field error, as discord.js prints it. */
export function invalidForm(field: string, code: string, message: string): ApiError {
  return new ApiError(400, 50035, 'Invalid Form Body', { [field]: { _errors: [{ code, message }] } });
}

export function sendJson(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A request body: JSON (or multipart `payload_json`) plus uploaded files keyed by their `files[n]` index. */
export interface ParsedBody {
  json: any;
  files: Map<string, UploadFile>;
}

/**
 * Reads and parses a request body: JSON, or multipart/form-data streamed through busboy as it
 * arrives. Undici's `Request#formData()` on the whole body took 11-15 ms of this process's thread
 * per 1.9 MB picture, which the whole-bot bench counted against the bot (BENCHMARKS.md, figure 1).
 */
export async function parseBody(req: IncomingMessage, options: { keepUploadBytes?: boolean } = {}): Promise<ParsedBody> {
  const keep = options.keepUploadBytes ?? true;
  const type = req.headers['content-type'] ?? '';
  const files = new Map<string, UploadFile>();
  if (!type.startsWith('multipart/form-data')) {
    const raw = await readBody(req);
    return { json: raw.length === 0 ? {} : parseJson(raw.toString('utf8')), files };
  }
  let json: any = {};
  await new Promise<void>((resolve, reject) => {
    const form = busboy({ headers: req.headers, limits: { fieldSize: 16 * 1024 * 1024 } });
    form.on('field', (key, value) => {
      if (key === 'payload_json') json = value;
    });
    form.on('file', (key, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (keep || chunks.length === 0) chunks.push(keep ? chunk : Buffer.from(chunk));
      });
      stream.on('end', () => {
        const index = /^files\[(\d+)\]$/.exec(key)?.[1] ?? key.replace(/^file/, '');
        const contentType = info.mimeType && info.mimeType !== 'application/octet-stream' ? info.mimeType : undefined;
        const bytes = keep ? Buffer.concat(chunks) : (chunks[0] ?? Buffer.alloc(0));
        files.set(index, { filename: info.filename ?? key, bytes, ...(keep ? {} : { size }), ...(contentType ? { contentType } : {}) });
      });
    });
    form.on('close', resolve);
    form.on('error', (err) => reject(new ApiError(400, 50109, `The request body is not valid multipart: ${(err as Error).message}`)));
    req.pipe(form);
  });
  return { json: typeof json === 'string' ? parseJson(json) : json, files };
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
  }
}

const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  zip: 'application/zip',
  pdf: 'application/pdf',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
};

/** Discord derives the attachment content type from the file name; so does this. */
export function guessContentType(filename: string, given?: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  return (ext && MIME[ext]) ?? given;
}

/** Width/height from a PNG IHDR or GIF logical screen descriptor; other formats get none. */
export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('latin1', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString('latin1', 0, 4) === 'GIF8') {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  return undefined;
}

/** Compiles `/channels/:channel/messages` into a matcher yielding the named segments (percent-decoded). */
export function compileRoute(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const source = template.replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const re = new RegExp(`^${source}/?$`);
  return (path) => {
    const m = re.exec(path);
    if (!m) return undefined;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
  };
}
