import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { QualityNotAllowedError, SettingValueError } from '../../src/settings/errors.ts';
import { GuildSettings } from '../../src/settings/settings.ts';
import { ROOT } from '../support/fixtures.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../support/postgres.ts';

const GUILD = '400000000000000001';

describeEachDialect('GuildSettings', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function settingsWith(overrides: Record<string, unknown>): Promise<GuildSettings> {
    const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml'), overrides });
    t ??= await openTestStore(dialect);
    return new GuildSettings(t.store, config, silentLogger);
  }

  const pro = {
    generation: { quality_models: { pro: 'gemini-3-pro-image' } },
    budgets: { guild_daily_images: 100, guild_daily_usd: null },
  };

  it('without settings, a scene follows campaign.yaml and config; with none for the guild, the defaults stay', async () => {
    const s = await settingsWith(pro);
    expect(await s.look(GUILD, 'kraghammer', 'oil painting')).toEqual({
      artStyle: 'oil painting',
      aspectRatio: '16:9',
      quality: 'fast',
      imageModel: 'gemini-3.1-flash-image',
    });
    expect(await s.look(null, 'kraghammer', 'oil painting', { shape: 'wide', quality: 'pro' })).toMatchObject({
      aspectRatio: '21:9',
      imageModel: 'gemini-3-pro-image',
    });
    expect(await s.limits(GUILD)).toEqual({ images: 100, usd: null });
  });

  it('stores per campaign and per guild, the request winning over the settings', async () => {
    const s = await settingsWith(pro);
    await s.change(
      GUILD,
      'kraghammer',
      [
        { key: 'art_style', value: '  ink wash ' },
        { key: 'shape', value: 'portrait' },
        { key: 'quality', value: 'pro' },
        { key: 'daily_images', value: 30 },
        { key: 'daily_usd', value: 1.234 },
      ],
      'gm',
    );
    expect(await s.look(GUILD, 'kraghammer', 'oil')).toEqual({
      artStyle: 'ink wash',
      aspectRatio: '9:16',
      quality: 'pro',
      imageModel: 'gemini-3-pro-image',
    });
    expect(await s.look(GUILD, 'kraghammer', 'oil', { shape: 'square', quality: 'fast' })).toMatchObject({
      aspectRatio: '1:1',
      quality: 'fast',
    });
    expect((await s.look(GUILD, 'other', 'oil')).artStyle).toBe('oil');
    expect(await s.limits(GUILD)).toEqual({ images: 30, usd: 1.23 });
    expect(s.limitsOf(await s.stored(GUILD, null))).toEqual({ images: 30, usd: 1.23 });
    expect(await s.limits('400000000000000002')).toEqual({ images: 100, usd: null });
  });

  it('records each change with who, old and new value, leaves out unchanged values, and resets to the default', async () => {
    const s = await settingsWith(pro);
    await s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'portrait' }], 'gm');
    expect(await s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'portrait' }], 'gm')).toEqual([]);
    await s.change(GUILD, 'kraghammer', [{ key: 'shape', value: null }], 'other-gm');
    expect((await s.stored(GUILD, 'kraghammer')).shape).toBeNull();
    const { settingChanges } = t!.store.tables;
    const rows = await t!.store.db.select().from(settingChanges).orderBy(settingChanges.id);
    expect(rows.map((r) => [r.campaignId, r.key, r.oldValue, r.newValue, r.changedBy])).toEqual([
      ['kraghammer', 'shape', null, '"portrait"', 'gm'],
      ['kraghammer', 'shape', '"portrait"', null, 'other-gm'],
    ]);
    expect((await s.history(GUILD)).map((c) => c.changedBy)).toEqual(['other-gm', 'gm']);
    expect(await s.history(GUILD, 1)).toEqual([
      expect.objectContaining({ campaignId: 'kraghammer', key: 'shape', oldValue: 'portrait', newValue: null, changedBy: 'other-gm' }),
    ]);
  });

  it('records concurrent changes of one guild one after another, each with the value it replaced', async () => {
    const s = await settingsWith(pro);
    const values = [10, 20, 30, 40, 50, 60];
    await Promise.all(values.map((n) => s.change(GUILD, null, [{ key: 'daily_images', value: n }], `gm${n}`)));
    const history = (await s.history(GUILD, values.length)).reverse();
    expect(history.map((c) => c.oldValue)).toEqual([null, ...history.slice(0, -1).map((c) => c.newValue)]);
    expect((await s.stored(GUILD, null)).daily_images).toBe(history.at(-1)!.newValue);
  });

  it("refuses values outside the operator's ceilings or choices, all or nothing", async () => {
    const s = await settingsWith(pro);
    const attempt = s.change(
      GUILD,
      'kraghammer',
      [
        { key: 'shape', value: 'square' },
        { key: 'daily_images', value: 101 },
      ],
      'gm',
    );
    await expect(attempt).rejects.toThrow(new SettingValueError('daily_images', "at most 100, the operator's ceiling"));
    expect((await s.stored(GUILD, 'kraghammer')).shape).toBeNull();
    await expect(s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'round' }], 'gm')).rejects.toThrow(SettingValueError);
    await expect(s.change(GUILD, 'kraghammer', [{ key: 'daily_images', value: 1.5 }], 'gm')).rejects.toThrow(SettingValueError);
    await expect(s.change(GUILD, 'kraghammer', [{ key: 'art_style', value: ' ' }], 'gm')).rejects.toThrow(SettingValueError);
    await expect(
      s.change(
        GUILD,
        null,
        [
          { key: 'daily_images', value: 5 },
          { key: 'shape', value: 'wide' },
        ],
        'gm',
      ),
    ).rejects.toThrow(new SettingValueError('shape', 'this channel is not linked to a campaign'));
    expect(await s.history(GUILD)).toEqual([]);
  });

  it('pro is refused by config when no pro model is configured, and by settings when the guild keeps fast', async () => {
    const none = await settingsWith({});
    await expect(none.look(GUILD, 'kraghammer', '', { quality: 'pro' })).rejects.toThrow(new QualityNotAllowedError('config'));
    await expect(none.change(GUILD, 'kraghammer', [{ key: 'quality', value: 'pro' }], 'gm')).rejects.toThrow(SettingValueError);
    const s = await settingsWith(pro);
    await s.change(GUILD, 'kraghammer', [{ key: 'quality', value: 'fast' }], 'gm');
    await expect(s.look(GUILD, 'kraghammer', '', { quality: 'pro' })).rejects.toThrow(new QualityNotAllowedError('settings'));
    expect((await s.look(GUILD, 'kraghammer', '')).imageModel).toBe('gemini-3.1-flash-image');
  });
});
