import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, GoogleGenAI } from '@google/genai';
import type { GenerateContentResponse } from '@google/genai';
import sharp from 'sharp';
import { GeminiEmulator } from './gemini/server.ts';

const TEXT_MODEL = 'gemini-2.5-flash';
const IMAGE_MODEL = 'gemini-3-pro-image-preview';

let emulator: GeminiEmulator;

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
});

function client(httpOptions: Record<string, unknown> = {}, apiKey = 'test-key'): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: emulator.url, ...httpOptions } });
}

function imageRequest(prompt: string, imageConfig: { aspectRatio?: string; imageSize?: string } = {}) {
  return {
    model: IMAGE_MODEL,
    contents: prompt,
    config: { responseModalities: ['IMAGE'], imageConfig },
  };
}

function inlineImage(response: GenerateContentResponse): Buffer {
  const part = response.candidates?.[0]?.content?.parts?.find((p) => p.inlineData?.data);
  expect(part?.inlineData?.mimeType).toBe('image/png');
  return Buffer.from(part?.inlineData?.data ?? '', 'base64');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('Gemini emulator through the real @google/genai SDK', () => {
  it('answers text models with a deterministic 30-50 word scene and usage metadata', async () => {
    const contents = 'ALICE: We descend into the flooded catacombs, torches sputtering.\nBOB: I ready my crossbow.';
    const first = await client().models.generateContent({ model: TEXT_MODEL, contents });
    const again = await client().models.generateContent({ model: TEXT_MODEL, contents });
    const other = await client().models.generateContent({ model: TEXT_MODEL, contents: 'A dragon burns the orchard.' });

    const text = first.text ?? '';
    const words = text.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(30);
    expect(words).toBeLessThanOrEqual(50);
    expect(text).not.toMatch(/ALICE|BOB/);
    expect(text).toContain('catacombs');
    expect(again.text).toBe(text);
    expect(other.text).not.toBe(text);
    expect(first.candidates?.[0]?.finishReason).toBe('STOP');
    expect(first.modelVersion).toBe(TEXT_MODEL);
    expect(first.responseId).toBeTruthy();
    expect(first.usageMetadata?.promptTokenCount).toBe(Math.ceil(contents.length / 4));
    expect(first.usageMetadata?.totalTokenCount).toBe(
      (first.usageMetadata?.promptTokenCount ?? 0) + (first.usageMetadata?.candidatesTokenCount ?? 0),
    );
  });

  it('records each request with model, path, API key header and the SDK-built body', async () => {
    await client().models.generateContent({
      model: TEXT_MODEL,
      contents: 'hello',
      config: { systemInstruction: 'be terse', temperature: 0.2, responseMimeType: 'application/json' },
    });
    expect(emulator.requests).toHaveLength(1);
    const [request] = emulator.requests;
    expect(request?.model).toBe(TEXT_MODEL);
    expect(request?.apiVersion).toBe('v1beta');
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/v1beta/models/${TEXT_MODEL}:generateContent`);
    expect(request?.headers['x-goog-api-key']).toBe('test-key');
    expect(request?.body.contents).toEqual([{ role: 'user', parts: [{ text: 'hello' }] }]);
    expect(request?.body.systemInstruction.parts[0].text).toBe('be terse');
    expect(request?.body.generationConfig).toMatchObject({ temperature: 0.2, responseMimeType: 'application/json' });
    expect(request?.answer).toBe('json {}');
  });

  it('lets tests script text answers with onText, falling back to the default on undefined', async () => {
    emulator.onText((r) => (r.body.generationConfig?.responseMimeType === 'application/json' ? '{"scenes":[1,2]}' : undefined));
    const json = await client().models.generateContent({
      model: TEXT_MODEL,
      contents: 'pick scenes',
      config: { responseMimeType: 'application/json' },
    });
    expect(JSON.parse(json.text ?? '')).toEqual({ scenes: [1, 2] });
    const plain = await client().models.generateContent({ model: TEXT_MODEL, contents: 'a haunted lighthouse' });
    expect(plain.text).toContain('lighthouse');
  });

  it('renders a real PNG at the Gemini 3 size for the aspect ratio and image size', async () => {
    const response = await client().models.generateContent(
      imageRequest('A red dragon circles the burning tower', { aspectRatio: '16:9', imageSize: '1K' }),
    );
    const png = inlineImage(response);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([1376, 768]);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata?.candidatesTokenCount).toBe(1120);
    expect(response.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 1120 }]);
    // responseModalities ['IMAGE'] alone: no text part, as from the real model.
    expect(response.candidates?.[0]?.content?.parts).toHaveLength(1);

    const portrait = inlineImage(await client().models.generateContent(imageRequest('a portrait', { aspectRatio: '3:4' })));
    const portraitMeta = await sharp(portrait).metadata();
    expect([portraitMeta.width, portraitMeta.height]).toEqual([896, 1200]);
  });

  it('gives different pixels for different prompts and the same pixels for the same prompt', async () => {
    const render = async (prompt: string): Promise<Buffer> => {
      const png = inlineImage(await client().models.generateContent(imageRequest(prompt)));
      return sharp(png).resize(32, 32).raw().toBuffer();
    };
    const a = await render('A goblin market under a violet moon');
    const b = await render('Knights charge across a frozen lake');
    const a2 = await render('A goblin market under a violet moon');
    expect(a.equals(b)).toBe(false);
    expect(a.equals(a2)).toBe(true);
  });

  it('treats requests with inline images as edits and adds a text part when TEXT is requested', async () => {
    const reference = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const response = await client().models.generateContent({
      model: IMAGE_MODEL,
      contents: [
        {
          role: 'user',
          parts: [{ text: 'Make it night time' }, { inlineData: { mimeType: 'image/png', data: reference.toString('base64') } }],
        },
      ],
      config: { responseModalities: ['TEXT', 'IMAGE'] },
    });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]?.text).toBe('Here is your image.');
    // No aspectRatio given: like the real model, the output follows the reference (3:2).
    const meta = await sharp(inlineImage(response)).metadata();
    expect([meta.width, meta.height]).toEqual([1264, 848]);
    expect(emulator.requests[0]?.answer).toBe('image 1264x848 (edit of 1)');
    expect(response.usageMetadata?.promptTokenCount).toBe(Math.ceil('Make it night time'.length / 4) + 560);
  });

  it('rejects an unsupported image size with 400 INVALID_ARGUMENT', async () => {
    const error = await rejection(client().models.generateContent(imageRequest('x', { imageSize: '3K' })));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
  });

  it('serves a queued 429 (with Retry-After) and lets the SDK retry to success', async () => {
    emulator.enqueue({ kind: 'status', status: 429, retryAfterSeconds: 1 }, { model: IMAGE_MODEL });
    const ai = client({ retryOptions: { attempts: 2, initialDelay: 0.01 } });
    const response = await ai.models.generateContent(imageRequest('retry me'));
    expect(inlineImage(response).length).toBeGreaterThan(0);
    expect(emulator.requests.map((r) => r.answer)).toEqual(['status 429 RESOURCE_EXHAUSTED', 'image 1024x1024']);
    expect(emulator.queued).toBe(0);
  });

  it('surfaces 429 and 500 as ApiError when the SDK does not retry', async () => {
    emulator.enqueue({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    emulator.enqueue({ kind: 'status', status: 500, message: 'boom' });
    const tooMany = await rejection(client().models.generateContent({ model: TEXT_MODEL, contents: 'x' }));
    expect(tooMany).toBeInstanceOf(ApiError);
    expect((tooMany as ApiError).status).toBe(429);
    expect((tooMany as ApiError).message).toContain('RESOURCE_EXHAUSTED');
    expect((tooMany as ApiError).message).toContain('"retryDelay":"7s"');
    const internal = await rejection(client().models.generateContent({ model: TEXT_MODEL, contents: 'x' }));
    expect((internal as ApiError).status).toBe(500);
    expect((internal as ApiError).message).toContain('boom');
  });

  it('applies queued behaviours only to matching models and predicates', async () => {
    emulator.enqueue({ kind: 'status', status: 503 }, { model: /-image-/ });
    emulator.enqueue({ kind: 'text', text: 'scripted' }, { when: (r) => JSON.stringify(r.body).includes('magic word') });
    const plain = await client().models.generateContent({ model: TEXT_MODEL, contents: 'ordinary' });
    expect(plain.text).not.toBe('scripted');
    const magic = await client().models.generateContent({ model: TEXT_MODEL, contents: 'the magic word' });
    expect(magic.text).toBe('scripted');
    const unavailable = await rejection(client().models.generateContent(imageRequest('x')));
    expect((unavailable as ApiError).status).toBe(503);
  });

  it('hangs until the caller aborts via abortSignal or httpOptions.timeout', async () => {
    emulator.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expect(
      client().models.generateContent({ model: TEXT_MODEL, contents: 'x', config: { abortSignal: controller.signal } }),
    ).rejects.toThrow();

    emulator.enqueue({ kind: 'hang' });
    await expect(client({ timeout: 150 }).models.generateContent({ model: TEXT_MODEL, contents: 'x' })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(emulator.requests.map((r) => r.answer)).toEqual(['hang', 'hang']);
  });

  it('delays answers by the configured latency', async () => {
    emulator.setLatency(120);
    let started = Date.now();
    await client().models.generateContent({ model: TEXT_MODEL, contents: 'x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);

    emulator.setLatency(0).enqueue({ kind: 'latency', ms: 150 });
    started = Date.now();
    const slow = await client().models.generateContent({ model: TEXT_MODEL, contents: 'slow gargoyles' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(slow.text).toContain('gargoyles');
  });

  it('counts generate requests in flight and records when each stopped being in flight', async () => {
    emulator.setLatency(100);
    await Promise.all([
      client().models.generateContent({ model: TEXT_MODEL, contents: 'x' }),
      client().models.generateContent(imageRequest('y')),
      client().models.countTokens({ model: TEXT_MODEL, contents: 'z' }),
    ]);
    expect(emulator.peakGenerating).toBe(2);
    await vi.waitFor(() => expect(emulator.generating).toBe(0));
    const generated = (model: string) => emulator.requests.find((r) => r.model === model && r.rpc === 'generateContent')!;
    const [text, image] = [generated(TEXT_MODEL), generated(IMAGE_MODEL)];
    for (const r of [text, image]) expect(r.endedAt! - r.receivedAt).toBeGreaterThanOrEqual(90);
    // The two overlapped: each was received before the other ended.
    expect(text.receivedAt).toBeLessThan(image.endedAt!);
    expect(image.receivedAt).toBeLessThan(text.endedAt!);
    // countTokens is not a model call in flight.
    expect(emulator.requests.find((r) => r.rpc === 'countTokens')!.endedAt).toBeUndefined();

    emulator.reset();
    emulator.enqueue({ kind: 'hang' });
    await expect(client({ timeout: 100 }).models.generateContent({ model: TEXT_MODEL, contents: 'x' })).rejects.toThrow();
    await vi.waitFor(() => expect(emulator.requests[0]!.endedAt).toBeDefined());
    expect(emulator.requests[0]!.answer).toBe('hang');
  });

  it('holds every answer until released', async () => {
    const release = emulator.hold();
    let answered = false;
    const call = client()
      .models.generateContent({ model: TEXT_MODEL, contents: 'x' })
      .then(() => (answered = true));
    await vi.waitFor(() => expect(emulator.generating).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    release();
    await call;
    expect(answered).toBe(true);
  });

  it('reports a blocked prompt through promptFeedback without candidates', async () => {
    emulator.enqueue({ kind: 'blocked' });
    const response = await client().models.generateContent(imageRequest('something forbidden'));
    expect(response.promptFeedback?.blockReason).toBe('SAFETY');
    expect(response.candidates).toBeUndefined();
  });

  it('reports a safety finish reason without image data', async () => {
    emulator.enqueue({ kind: 'finish', finishReason: 'IMAGE_SAFETY' });
    const response = await client().models.generateContent(imageRequest('something risky'));
    expect(response.candidates?.[0]?.finishReason).toBe('IMAGE_SAFETY');
    expect(response.candidates?.[0]?.content?.parts ?? []).toHaveLength(0);
    expect(response.data).toBeUndefined();
  });

  it('can answer an image model with text only or with a given PNG', async () => {
    const png = await sharp({ create: { width: 8, height: 4, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    emulator.enqueue({ kind: 'text', text: 'I cannot draw that.' }).enqueue({ kind: 'image', png });
    const textOnly = await client().models.generateContent(imageRequest('x'));
    expect(textOnly.text).toBe('I cannot draw that.');
    expect(textOnly.candidates?.[0]?.content?.parts?.some((p) => p.inlineData)).toBe(false);
    const given = await client().models.generateContent(imageRequest('x'));
    expect(inlineImage(given).equals(png)).toBe(true);
  });

  it('makes the SDK throw on a malformed JSON body', async () => {
    emulator.enqueue({ kind: 'malformed' });
    await expect(client().models.generateContent({ model: TEXT_MODEL, contents: 'x' })).rejects.toThrow(SyntaxError);
  });

  it('rejects requests without an API key with 403 PERMISSION_DENIED', async () => {
    // The SDK warns about the empty key on construction; that is expected here, not test noise.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ai = client({}, '');
    warn.mockRestore();
    const error = await rejection(ai.models.generateContent({ model: TEXT_MODEL, contents: 'x' }));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).message).toContain('PERMISSION_DENIED');
  });

  it('answers imagen models on generateContent and unknown routes with 404 NOT_FOUND', async () => {
    const imagen = await rejection(client().models.generateContent({ model: 'imagen-4.0-generate-001', contents: 'x' }));
    expect((imagen as ApiError).status).toBe(404);
    expect((imagen as ApiError).message).toContain('is not supported for generateContent');
    const unknown = await rejection(client().models.get({ model: TEXT_MODEL }));
    expect((unknown as ApiError).status).toBe(404);
  });

  it('streams over SSE and counts tokens', async () => {
    const chunks: string[] = [];
    for await (const chunk of await client().models.generateContentStream({ model: TEXT_MODEL, contents: 'stormy gondolas' })) {
      chunks.push(chunk.text ?? '');
    }
    expect(chunks.join('')).toContain('gondolas');
    const counted = await client().models.countTokens({ model: TEXT_MODEL, contents: '12345678' });
    expect(counted.totalTokens).toBe(2);
  });

  it('ends hanging requests and keep-alive connections on close()', async () => {
    const own = await GeminiEmulator.start();
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: own.url } });
    await ai.models.generateContent({ model: TEXT_MODEL, contents: 'warm up a keep-alive connection' });
    own.enqueue({ kind: 'hang' });
    const hanging = ai.models.generateContent({ model: TEXT_MODEL, contents: 'x' });
    const settled = hanging.then(
      () => 'resolved',
      () => 'rejected',
    );
    while (own.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await own.close();
    expect(await settled).toBe('rejected');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
