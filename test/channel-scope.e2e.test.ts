import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../src/app.ts';
import { silentLogger } from '../src/platform/log.ts';
import { startBot, type Bot } from '../commands/bot/client.ts';
import type { InteractionResult } from './emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from './support/bot-harness.ts';
import { testConfig } from './support/fixtures.ts';

const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);

/**
 * discord.js keeps channels only of the guilds where Limner is in use (commands/bot/channel-scope.ts):
 * checked against the emulator's GUILD_CREATEs and REST through the real client.
 */
describe('channel cache scoped to the guilds where Limner is in use', () => {
  let h: BotHarness;
  let other: { id: string; channels: Array<{ id: string; name: string }> };
  let thread: { id: string };
  const started: Array<{ bot: Bot; limner?: Limner }> = [];
  const cachedIn = (bot: Bot, guildId: string) => [...(bot.client.guilds.cache.get(guildId)?.channels.cache.keys() ?? [])].sort();
  const restSince = (from: number, route: string) => h.discord.restCalls.slice(from).filter((c) => c.route === route).length;

  beforeAll(async () => {
    h = await startBotHarness();
    other = h.discord.addGuild({ name: 'Elsewhere', channels: [{ name: 'tavern' }, { name: 'market' }] });
    thread = await h.discord.addThread({ parentId: h.channels.campaign, name: 'side quest' });
    await h.discord.waitFor(() => h.bot.client.guilds.cache.get(other.id), { label: 'second guild' });
  });
  afterAll(async () => {
    for (const s of started) {
      await s.bot.stop();
      s.limner?.close();
    }
    await h?.close();
  });

  it('caches no channel of a guild until Limner is used there, then all of its channels and threads', async () => {
    expect(cachedIn(h.bot, h.guildId)).toEqual([]);
    expect(h.bot.client.channels.cache.has(h.channels.campaign)).toBe(false);

    const r = await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil(answered, 15_000);
    expect(r.original?.content).toMatch(/now illustrates/);
    await h.discord.waitFor(() => h.bot.client.channels.cache.has(thread.id) || undefined, { label: 'thread cached' });
    expect(cachedIn(h.bot, h.guildId)).toEqual([h.channels.campaign, h.channels.general, thread.id].sort());
    expect(h.bot.client.channels.cache.get(thread.id)?.isThread()).toBe(true);
    expect(cachedIn(h.bot, other.id)).toEqual([]);
    expect(h.limner.links.guildsInUse()).toEqual([h.guildId]);
  });

  it('after a restart keeps the guilds in use from GUILD_CREATE without asking again, and no other', async () => {
    await h.bot.stop();
    const from = h.discord.restCalls.length;
    const bot = startBot(h.limner, h.discord.token);
    started.push({ bot });
    await bot.ready;
    expect(cachedIn(bot, h.guildId)).toEqual([h.channels.campaign, h.channels.general, thread.id].sort());
    expect(cachedIn(bot, other.id)).toEqual([]);
    expect(restSince(from, '/guilds/:guild/channels')).toBe(0);
  });

  it('brings in the guild of a channel linked in config at ready', async () => {
    const { config, secrets } = testConfig(h.limner.config.campaigns_dir, h.gemini.url, {
      database: `${h.limner.config.campaigns_dir}/configured.db`,
      discord: {
        api_base: h.discord.apiBase,
        application_id: h.discord.applicationId,
        links: [{ channel_id: other.channels[0]!.id, campaign_id: 'kraghammer' }],
      },
    });
    const limner = createLimner(config, { ...secrets, discordToken: h.discord.token }, silentLogger);
    const bot = startBot(limner, h.discord.token);
    started.push({ bot, limner });
    await bot.ready;
    expect(cachedIn(bot, other.id)).toEqual(other.channels.map((c) => c.id).sort());
    // This database has no link in the first guild: its channels are not kept.
    expect(cachedIn(bot, h.guildId)).toEqual([]);
  });
});
