import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli, type CliRun } from '../support/cli.ts';
import { openSqliteStore } from '../../src/platform/db.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GuildSettings } from '../../src/settings/settings.ts';
import { ROOT, SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';

let emulator: GeminiEmulator;
let campaigns: { dir: string; cleanup: () => void };

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  campaigns?.cleanup();
  campaigns = sampleCampaigns();
  emulator.reset();
  return () => campaigns.cleanup();
});

/** Settings over the test config: budget lines replaced in place, other sections appended. */
interface Layer {
  readonly budgets?: Readonly<Record<string, number>>;
  readonly extra?: string;
}

/**
 * Runs the real CLI with the emulator as Gemini, the test config changed by `layer` (written beside
 * the campaigns) and the database in the campaigns folder.
 */
async function limner(layer: Layer, ...args: string[]): Promise<CliRun> {
  let yaml = readFileSync(path.join(ROOT, 'test/support/test-config.yaml'), 'utf8');
  for (const [key, value] of Object.entries(layer.budgets ?? {}))
    yaml = yaml.replace(new RegExp(`^  ${key}: .*$`, 'm'), `  ${key}: ${value}`);
  const configFile = path.join(campaigns.dir, 'limner.yaml');
  writeFileSync(configFile, `${yaml}\n${layer.extra ?? ''}`);
  return limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url, env: { LIMNER_CONFIG: configFile } });
}

const json = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { imageId: string; reused: boolean; width: number };
const imageCalls = () => emulator.requests.filter((r) => /image/.test(r.model)).length;
const ledger = () => {
  const db = new Database(path.join(campaigns.dir, 'limner.db'), { readonly: true });
  try {
    return db
      .prepare('select user_id as userId, guild_id as guildId, purpose, images, budget_bypassed as bypassed from usage order by id')
      .all();
  } finally {
    db.close();
  }
};

const DEDUPE: Layer = { budgets: { dedupe_window_s: 600 } };

describe('limner scene: reuse of identical scenes', () => {
  it('reuses the same request within the window and says so; --fresh paints a new one', async () => {
    const first = json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).stdout);
    expect(first.reused).toBe(false);
    const again = await limner(DEDUPE, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN);
    expect(again.stdout).toMatch(/Reused: the identical scene was painted 1 min ago/);
    expect(again.stdout).toContain('nothing new (reused)');
    expect(again.stdout).toContain(first.imageId);
    expect(imageCalls()).toBe(1);
    const fresh = json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--fresh')).stdout);
    expect(fresh).toMatchObject({ reused: false });
    expect(fresh.imageId).not.toBe(first.imageId);
    expect(imageCalls()).toBe(2);
  });

  it('paints anew when the aspect ratio, the art style or the transcript text around the turn changed', async () => {
    const first = json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).stdout);
    const portrait = json(
      (
        await limner(
          { ...DEDUPE, extra: "generation:\n  aspect_ratio: '9:16'\n" },
          '--json',
          'scene',
          'turn',
          '10',
          '--campaign',
          SAMPLE_CAMPAIGN,
        )
      ).stdout,
    );
    expect(portrait.reused).toBe(false);
    expect(portrait.width).toBeLessThan(first.width);

    const yamlFile = path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'campaign.yaml');
    writeFileSync(yamlFile, readFileSync(yamlFile, 'utf8').replace(/^art_style: .*$/m, 'art_style: charcoal sketch'));
    const sketched = json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).stdout);
    expect(sketched.reused).toBe(false);

    const transcript = path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'transcript.jsonl');
    const lines = readFileSync(transcript, 'utf8').split('\n');
    lines[9] = JSON.stringify({ ...JSON.parse(lines[9]!), text: 'A dragon lands on the roof.' });
    writeFileSync(transcript, lines.join('\n'));
    const edited = json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).stdout);
    expect(edited.reused).toBe(false);
    // Text after the context window does not change the scene.
    appendFileSync(transcript, `${JSON.stringify({ turn: 2161, speaker: 'MATT', text: 'Later.' })}\n`);
    expect(json((await limner(DEDUPE, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).stdout).reused).toBe(true);
    expect(imageCalls()).toBe(4);
  });
});

describe('limner scene: budgets', () => {
  const BUDGET: Layer = { budgets: { user_daily_images: 1 } };

  it('refuses the CLI like the bot once its daily pictures are used, naming the bypass; --ignore-budget is recorded', async () => {
    expect((await limner(BUDGET, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN)).code).toBe(0);
    const refused = await limner(BUDGET, 'scene', 'turn', '11', '--campaign', SAMPLE_CAMPAIGN);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^limner: the CLI has used its 1 pictures for today \(budgets\.user_daily_images\).*--ignore-budget/);
    expect(imageCalls()).toBe(1);

    const bypassed = await limner(BUDGET, '--json', 'scene', 'turn', '11', '--campaign', SAMPLE_CAMPAIGN, '--ignore-budget');
    expect(bypassed.code).toBe(0);
    expect(ledger()).toEqual([
      { userId: 'cli', guildId: null, purpose: 'prompt', images: 0, bypassed: 0 },
      { userId: 'cli', guildId: null, purpose: 'image', images: 1, bypassed: 0 },
      { userId: 'cli', guildId: null, purpose: 'prompt', images: 0, bypassed: 1 },
      { userId: 'cli', guildId: null, purpose: 'image', images: 1, bypassed: 1 },
    ]);
  });

  it("counts --guild pictures against that guild's budget and shows them in its usage", async () => {
    const GUILD: Layer = { budgets: { guild_daily_images: 1 } };
    expect((await limner(GUILD, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--guild', '42')).code).toBe(0);
    const refused = await limner(GUILD, 'scene', 'turn', '11', '--campaign', SAMPLE_CAMPAIGN, '--guild', '42');
    expect(refused.stderr).toMatch(/^limner: guild 42 has used its 1 pictures for today/);
    expect((await limner(GUILD, 'scene', 'turn', '11', '--campaign', SAMPLE_CAMPAIGN, '--guild', '7')).code).toBe(0);
    const usage = JSON.parse((await limner(GUILD, '--json', 'usage', '--guild', '42')).stdout.split('\n')[0]!);
    expect(usage).toMatchObject({ period: 'today', guildId: '42', images: 1 });
  });
});

describe('limner scene --count', () => {
  it('paints the variations from one prompt, writes each and prints them; a budget must fit them all', async () => {
    const out = await limner({}, 'scene', 'turn', '1500', '--campaign', SAMPLE_CAMPAIGN, '--count', '3');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Turn 1,500 · Arrival at Kraghammer \(specific\) · 3 variations$/m);
    const files = [...out.stdout.matchAll(/^\s+\d\.\s+(\S+\.png) /gm)].map((m) => m[1]!);
    expect(files).toHaveLength(3);
    for (const file of files) expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    const textCalls = emulator.requests.filter((q) => q.model === 'gemini-3.5-flash');
    expect(textCalls).toHaveLength(1);

    const asJson = await limner(
      {},
      '--json',
      'scene',
      'current',
      '--campaign',
      SAMPLE_CAMPAIGN,
      '--count',
      '2',
      '--shape',
      'portrait',
      '--note',
      'focus on the dragon',
    );
    const rows = asJson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { variation: number; of: number; prompt: string; width: number; height: number; note: string });
    expect(rows.map((r) => [r.variation, r.of])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(rows[0]!.prompt).toBe(rows[1]!.prompt);
    for (const row of rows) expect([row.height > row.width, row.note]).toEqual([true, 'focus on the dragon']);

    const GUILD: Layer = { budgets: { guild_daily_images: 3 } };
    const refused = await limner(GUILD, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--guild', '42', '--count', '4');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/guild 42 has 3 of its 3 pictures left for today, fewer than the 4 asked for/);
    expect((await limner({}, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--count', '5')).stderr).toMatch(/--count/);
  }, 180_000);
});

describe('limner scene: shape, quality, note and a guild’s settings', () => {
  it('--shape, --note and --quality steer the picture; with --guild the guild’s settings apply', async () => {
    const store = openSqliteStore(path.join(campaigns.dir, 'limner.db'));
    try {
      const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml') });
      await new GuildSettings(store, config, silentLogger).change(
        '42',
        SAMPLE_CAMPAIGN,
        [
          { key: 'art_style', value: 'charcoal sketch' },
          { key: 'daily_images', value: 0 },
        ],
        'gm',
      );
    } finally {
      store.close();
    }
    const run = await limner(
      {},
      '--json',
      'scene',
      'turn',
      '10',
      '--campaign',
      SAMPLE_CAMPAIGN,
      '--shape',
      'portrait',
      '--note',
      'focus on the dragon',
    );
    const picture = JSON.parse(run.stdout.trim()) as { width: number; height: number; note: string; prompt: string };
    expect(picture.height).toBeGreaterThan(picture.width);
    expect(picture.note).toBe('focus on the dragon');
    expect(picture.prompt).not.toContain('charcoal sketch');
    const writer = emulator.requests.find((r) => !/image/.test(r.model))!;
    expect(JSON.stringify(writer.body)).toContain("Director's note from the player who asked (follow it): focus on the dragon");

    const refused = await limner({}, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--guild', '42');
    expect(refused.stderr).toMatch(/^limner: guild 42 has used its 0 pictures for today/);
    const styled = await limner({}, '--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--guild', '42', '--ignore-budget');
    expect((JSON.parse(styled.stdout.trim()) as { prompt: string }).prompt).toMatch(/Art style: charcoal sketch\.$/);

    const pro = await limner({}, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--quality', 'pro');
    expect([pro.code, pro.stderr]).toEqual([
      1,
      'limner: pro quality needs a pro image model: set generation.quality_models.pro in the config.\n',
    ]);
    const square = await limner(
      { extra: 'generation:\n  quality_models:\n    pro: gemini-3-pro-image\n' },
      '--json',
      'scene',
      'turn',
      '10',
      '--campaign',
      SAMPLE_CAMPAIGN,
      '--quality',
      'pro',
      '--shape',
      'square',
    );
    expect(JSON.parse(square.stdout.trim())).toMatchObject({ model: 'gemini-3-pro-image', width: 1024, height: 1024 });
    expect((await limner({}, 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN, '--shape', 'round')).stderr).toMatch(
      /Allowed choices are landscape, portrait, square, wide/,
    );
  }, 180_000);
});
