import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { turnContext } from '../../src/scenes/context.ts';
import { silentLogger } from '../../src/platform/log.ts';
import type { TranscriptEntry } from '../../src/campaigns/transcript.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { by } from '../support/requests.ts';

// Consistency measured over a real CRD3 episode: the sample campaign's 2,160 turns (C1E001, CC BY-SA 4.0;
// see campaigns/kraghammer/ATTRIBUTION.md), copied without its characters and given a cast whose
// portraits are solid colours, so every image call can be read back as the names it referenced.
const CAST = ['Grog', 'Scanlan', 'Pike', 'Keyleth', 'Tiberius', 'Trinket', 'Percy', 'Vax', 'Vex'];
const markerOf = (i: number) => 20 + i * 25;

/** The red channel of an image's first pixel: {@link markerOf} of the character it portrays. */
async function marker(data: Buffer): Promise<number> {
  const { data: pixels } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  return pixels[0]!;
}

/**
 * The oracle, written apart from the code under test: who is present in the window, in order of
 * presence. CRD3's speakers are the players, so presence is being named: whole words starting with a
 * capital (`Grog`, `GROG`, `Grog's`, `Vex'ahlia`), most named first, ties by first mention.
 */
function expectedCast(window: readonly TranscriptEntry[]): string[] {
  const found = CAST.map((name) => {
    let count = 0;
    let first = Infinity;
    for (const [i, entry] of window.entries()) {
      const hits = [...entry.text.matchAll(new RegExp(`\\b${name}\\b`, 'gi'))].filter((m) => /^\p{Lu}/u.test(m[0]));
      if (hits.length > 0) first = Math.min(first, i);
      count += hits.length;
    }
    return { name, count, first };
  });
  return found
    .filter((f) => f.count > 0)
    .sort((a, b) => b.count - a.count || a.first - b.first)
    .map((f) => f.name);
}

describe('cast consistency across a CRD3 episode', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let limner: Limner;

  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    campaigns = sampleCampaigns();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url);
    limner = await createLimner(config, secrets, silentLogger);
    const sample = await limner.campaigns.load(SAMPLE_CAMPAIGN);
    await limner.campaigns.create('episode', { name: sample.name }, sample.transcript.entries);
    for (const [i, name] of CAST.entries()) {
      const png = await sharp({ create: { width: 48, height: 64, channels: 3, background: { r: markerOf(i), g: 60, b: 90 } } })
        .png()
        .toBuffer();
      await limner.cast.setCharacter({
        campaignId: 'episode',
        requester: by('cli'),
        name,
        description: `${name}'s looks`,
        image: { name: `${name}.png`, bytes: png },
      });
    }
  });
  afterAll(async () => {
    await limner?.close();
    await emulator?.close();
    campaigns?.cleanup();
  });

  it('references, for every scene, the characters speaking or named within the context window, in order of presence', async () => {
    const campaign = await limner.campaigns.load('episode');
    const radius = limner.config.generation.turn_radius;
    const turns = Array.from({ length: 22 }, (_, i) => 50 + i * 100).filter((t) => t <= campaign.transcript.lastTurn);
    const referencedCounts: number[] = [];
    for (const turn of turns) {
      emulator.reset();
      const scene = await limner.scenes.run({ kind: 'turn', campaignId: 'episode', turn, requester: by('cli') });
      const expected = expectedCast(turnContext(campaign.transcript, turn, radius).entries).slice(0, 14);
      const call = emulator.requests.find((r) => r.model === limner.config.generation.image_model)!;
      const sent = (call.body.contents[0].parts as Array<{ inlineData?: { data: string } }>).flatMap((p) =>
        p.inlineData ? [Buffer.from(p.inlineData.data, 'base64')] : [],
      );
      const markers = await Promise.all(sent.map(marker));
      const sentNames = markers.map((m) => CAST[CAST.findIndex((_, i) => Math.abs(markerOf(i) - m) <= 2)] ?? `?${m}`);
      expect({ turn, sent: sentNames, referenced: scene.referenced }).toEqual({ turn, sent: expected, referenced: expected });
      referencedCounts.push(expected.length);
    }
    // The episode gives both kinds of scene: crowded ones and ones with no cast member named.
    expect(Math.max(...referencedCounts)).toBeGreaterThanOrEqual(3);
    expect(referencedCounts).toContain(0);
  }, 120_000);
});
