import { by } from '../support/requests.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { SingleFlight } from '../../src/jobs/single-flight.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { usage } from '../../src/platform/schema.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { isScanCall, scannerScript } from '../support/scanner-script.ts';

describe('SingleFlight', () => {
  const later = <T>(value: T, ms = 20) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

  it('shares one running task between callers of a key, and runs again once it has settled', async () => {
    const flights = new SingleFlight<string>();
    let runs = 0;
    const task = () => later(`run ${++runs}`);
    const [a, b, other] = await Promise.all([flights.run('k', task), flights.run('k', task), flights.run('other', task)]);
    expect([a, b]).toEqual([
      { value: 'run 1', leader: true },
      { value: 'run 1', leader: false },
    ]);
    expect(other).toEqual({ value: 'run 2', leader: true });
    expect(await flights.run('k', task)).toEqual({ value: 'run 3', leader: true });
  });

  it('shares a failure, but a waiter whose leader was stopped runs the task itself', async () => {
    const flights = new SingleFlight<string>();
    const failing = flights.run('k', () => later(null).then(() => Promise.reject(new Error('blocked'))));
    const sharing = flights.run('k', () => later('never'));
    await expect(failing).rejects.toThrow('blocked');
    await expect(sharing).rejects.toThrow('blocked');

    const stop = new AbortController();
    const stopped = flights.run(
      'k',
      () => new Promise<string>((_, reject) => stop.signal.addEventListener('abort', () => reject(stop.signal.reason))),
      stop.signal,
    );
    const waiter = flights.run('k', () => later('own run'));
    stop.abort(new Error('shutdown'));
    await expect(stopped).rejects.toThrow('shutdown');
    expect(await waiter).toEqual({ value: 'own run', leader: true });
  });

  it("stops waiting when the waiter's own signal aborts", async () => {
    const flights = new SingleFlight<string>();
    const leader = flights.run('k', () => later('done', 50));
    const stop = new AbortController();
    const waiter = flights.run('k', () => later('never'), stop.signal);
    stop.abort(new Error('gave up'));
    await expect(waiter).rejects.toThrow('gave up');
    expect(await leader).toEqual({ value: 'done', leader: true });
  });
});

describe('identical requests at the same time pay once', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let limner: Limner;

  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    campaigns = sampleCampaigns();
  });
  afterEach(async () => {
    await limner.close();
    campaigns.cleanup();
  });

  async function start(overrides: Record<string, unknown>): Promise<void> {
    const { config, secrets } = testConfig(campaigns.dir, emulator.url, overrides);
    limner = await createLimner(config, secrets, silentLogger);
  }
  const ledger = () => limner.store.db.select().from(usage).all();
  const calls = (purpose: string) => ledger().filter((r) => r.purpose === purpose).length;

  it('two /scene best on an unchanged campaign scan it once, and paint once with the dedupe window on', async () => {
    await start({ generation: { scanner_token_limit: 8000 }, budgets: { dedupe_window_s: 600 } });
    emulator.onText(scannerScript());
    emulator.setLatency(50);
    const [a, b] = await Promise.all(
      ['ana', 'bo'].map((requestedBy) => limner.scenes.run({ kind: 'best', campaignId: SAMPLE_CAMPAIGN, requester: by(requestedBy) })),
    );
    // 9 passages and one comparison, once.
    expect(emulator.requests.filter(isScanCall)).toHaveLength(10);
    expect([calls('scan'), calls('compare'), calls('prompt'), calls('image')]).toEqual([9, 1, 1, 1]);
    expect(b!.image.id).toBe(a!.image.id);
    // Either request may reach the shared run first; exactly one paints, the other reuses.
    const [leader, follower] = a!.reused === undefined ? [a!, b!] : [b!, a!];
    expect(leader.reused).toBeUndefined();
    expect(follower.reused).toBeDefined();
    expect([leader.best!.cached, follower.best!.cached]).toEqual([false, true]);
    expect(follower.calls).toEqual([]);
    for (const user of ['ana', 'bo']) expect((await limner.sessions.get(user, SAMPLE_CAMPAIGN))?.currentImageId).toBe(a!.image.id);
  });

  it('two identical /scene turn inside the dedupe window paint once; outside it each paints', async () => {
    await start({ budgets: { dedupe_window_s: 600 } });
    emulator.setLatency(50);
    const both = () =>
      Promise.all(
        ['ana', 'bo'].map((requestedBy) =>
          limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 42, requester: by(requestedBy) }),
        ),
      );
    const [a, b] = await both();
    expect([calls('prompt'), calls('image')]).toEqual([1, 1]);
    expect(b!.image.id).toBe(a!.image.id);
    expect([a!.reused, b!.reused].filter((r) => r !== undefined)).toHaveLength(1);

    await limner.close();
    campaigns.cleanup();
    campaigns = sampleCampaigns();
    await start({ budgets: { dedupe_window_s: 0 } });
    const [c, d] = await both();
    expect([calls('prompt'), calls('image')]).toEqual([2, 2]);
    expect(c!.image.id).not.toBe(d!.image.id);
  });
});
