import { EditPromptError } from '../../src/edits/errors.ts';
import { ReferenceNotImageError } from '../../src/images/errors.ts';
import { ReferenceDownloadError, ReferenceTooLargeError } from '../../commands/errors.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment, downloadAttachments } from '../../commands/edit/attachments.ts';
import { MAX_INSTRUCTION_CHARS, parseInstruction } from '../../src/edits/edit.ts';

describe('edit instructions and the source picture', () => {
  it('trims instructions and refuses blank or overlong ones', () => {
    expect(parseInstruction('  make it night \n')).toBe('make it night');
    expect(() => parseInstruction(' \n ')).toThrow(EditPromptError);
    expect(() => parseInstruction('x'.repeat(MAX_INSTRUCTION_CHARS + 1))).toThrow(/1,001 characters long; keep it to 1,000/);
  });
});

describe('downloading attachments', () => {
  let server: Server;
  let base: string;
  let hits = 0;
  const png = Buffer.from('89504e470d0a1a0a', 'hex');

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/ok.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      // Announces nothing and sends more than it should.
      if (req.url === '/endless.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(16 * 1024);
        let sent = 0;
        const push = () => {
          while (sent < 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (sent < 1024 * 1024) res.once('drain', push);
          else res.end();
        };
        return void push();
      }
      if (req.url === '/slow.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.write(png);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    origins.add(base);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const origins = new Set<string>();
  const limits = { maxBytes: 64 * 1024, timeoutMs: 300, origins };
  const attachment = (name: string, size = 8, contentType: string | null = 'image/png') => ({
    name,
    url: `${base}/${name}`,
    size,
    contentType,
  });

  it('downloads from the payload URL', async () => {
    expect(await downloadAttachment(attachment('ok.png'), limits)).toEqual({ name: 'ok.png', bytes: png });
  });

  it('refuses what the payload announces as too large or not an image before downloading', async () => {
    const before = hits;
    await expect(downloadAttachment(attachment('ok.png', limits.maxBytes + 1), limits)).rejects.toThrow(ReferenceTooLargeError);
    await expect(downloadAttachments([attachment('ok.png'), attachment('notes.txt', 8, 'text/plain')], limits)).rejects.toThrow(
      ReferenceNotImageError,
    );
    expect(hits).toBe(before);
  });

  it('cuts off a body that grows past the byte limit', async () => {
    await expect(downloadAttachment(attachment('endless.png'), limits)).rejects.toThrow(ReferenceTooLargeError);
  });

  it('gives up after the time limit and reports HTTP errors', async () => {
    const started = performance.now();
    await expect(downloadAttachment(attachment('slow.png'), limits)).rejects.toThrow(/took longer than 0 s to download/);
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(downloadAttachment(attachment('gone.png'), limits)).rejects.toThrow(ReferenceDownloadError);
  });
});
