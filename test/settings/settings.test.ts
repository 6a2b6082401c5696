import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { settingChanges } from '../../src/platform/schema.ts';
import { QualityNotAllowedError, SettingValueError } from '../../src/settings/errors.ts';
import { GuildSettings } from '../../src/settings/settings.ts';
import { openTempImageStore, ROOT, type TempImageStore } from '../support/fixtures.ts';
import path from 'node:path';

const GUILD = '400000000000000001';
let tmp: TempImageStore;

function settingsWith(overrides: Record<string, unknown>): GuildSettings {
  const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml'), overrides });
  return new GuildSettings(tmp.store, config, silentLogger);
}

beforeEach(() => {
  tmp = openTempImageStore();
});
afterEach(() => tmp.close());

describe('GuildSettings', () => {
  const pro = {
    generation: { quality_models: { pro: 'gemini-3-pro-image' } },
    budgets: { guild_daily_images: 100, guild_daily_usd: null },
  };

  it('without settings, a scene follows campaign.yaml and config; with none for the guild, the defaults stay', () => {
    const s = settingsWith(pro);
    expect(s.look(GUILD, 'kraghammer', 'oil painting')).toEqual({
      artStyle: 'oil painting',
      aspectRatio: '16:9',
      quality: 'fast',
      imageModel: 'gemini-3.1-flash-image',
    });
    expect(s.look(null, 'kraghammer', 'oil painting', { shape: 'wide', quality: 'pro' })).toMatchObject({
      aspectRatio: '21:9',
      imageModel: 'gemini-3-pro-image',
    });
    expect(s.limits(GUILD)).toEqual({ images: 100, usd: null });
  });

  it('stores per campaign and per guild, the request winning over the settings', () => {
    const s = settingsWith(pro);
    s.change(
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
    expect(s.look(GUILD, 'kraghammer', 'oil')).toEqual({
      artStyle: 'ink wash',
      aspectRatio: '9:16',
      quality: 'pro',
      imageModel: 'gemini-3-pro-image',
    });
    expect(s.look(GUILD, 'kraghammer', 'oil', { shape: 'square', quality: 'fast' })).toMatchObject({ aspectRatio: '1:1', quality: 'fast' });
    expect(s.look(GUILD, 'other', 'oil').artStyle).toBe('oil');
    expect(s.limits(GUILD)).toEqual({ images: 30, usd: 1.23 });
    expect(s.limits('400000000000000002')).toEqual({ images: 100, usd: null });
  });

  it('records each change with who, old and new value, leaves out unchanged values, and resets to the default', () => {
    const s = settingsWith(pro);
    s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'portrait' }], 'gm');
    expect(s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'portrait' }], 'gm')).toEqual([]);
    s.change(GUILD, 'kraghammer', [{ key: 'shape', value: null }], 'other-gm');
    expect(s.stored(GUILD, 'kraghammer').shape).toBeNull();
    const rows = tmp.store.db.select().from(settingChanges).all();
    expect(rows.map((r) => [r.campaignId, r.key, r.oldValue, r.newValue, r.changedBy])).toEqual([
      ['kraghammer', 'shape', null, '"portrait"', 'gm'],
      ['kraghammer', 'shape', '"portrait"', null, 'other-gm'],
    ]);
    expect(s.history(GUILD).map((c) => c.changedBy)).toEqual(['other-gm', 'gm']);
  });

  it("refuses values outside the operator's ceilings or choices, all or nothing", () => {
    const s = settingsWith(pro);
    const attempt = () =>
      s.change(
        GUILD,
        'kraghammer',
        [
          { key: 'shape', value: 'square' },
          { key: 'daily_images', value: 101 },
        ],
        'gm',
      );
    expect(attempt).toThrow(new SettingValueError('daily_images', "at most 100, the operator's ceiling"));
    expect(s.stored(GUILD, 'kraghammer').shape).toBeNull();
    expect(() => s.change(GUILD, 'kraghammer', [{ key: 'shape', value: 'round' }], 'gm')).toThrow(SettingValueError);
    expect(() => s.change(GUILD, 'kraghammer', [{ key: 'daily_images', value: 1.5 }], 'gm')).toThrow(SettingValueError);
    expect(() => s.change(GUILD, 'kraghammer', [{ key: 'art_style', value: ' ' }], 'gm')).toThrow(SettingValueError);
    expect(() => s.change(GUILD, null, [{ key: 'shape', value: 'wide' }], 'gm')).toThrow(
      new SettingValueError('shape', 'this channel is not linked to a campaign'),
    );
  });

  it('pro is refused by config when no pro model is configured, and by settings when the guild keeps fast', () => {
    const none = settingsWith({});
    expect(() => none.look(GUILD, 'kraghammer', '', { quality: 'pro' })).toThrow(new QualityNotAllowedError('config'));
    expect(() => none.change(GUILD, 'kraghammer', [{ key: 'quality', value: 'pro' }], 'gm')).toThrow(SettingValueError);
    const s = settingsWith(pro);
    s.change(GUILD, 'kraghammer', [{ key: 'quality', value: 'fast' }], 'gm');
    expect(() => s.look(GUILD, 'kraghammer', '', { quality: 'pro' })).toThrow(new QualityNotAllowedError('settings'));
    expect(s.look(GUILD, 'kraghammer', '').imageModel).toBe('gemini-3.1-flash-image');
  });
});
