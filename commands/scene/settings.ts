import { EmbedBuilder, MessageFlags, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { LimnerError } from '../../src/errors.ts';
import { SHAPE_NAMES, SHAPES, shapeLabel } from '../../src/scenes/canvas.ts';
import {
  CAMPAIGN_SETTING_KEYS,
  GUILD_SETTING_KEYS,
  MAX_ART_STYLE_CHARS,
  type QualityPolicy,
  type RecordedChange,
  type SettingChange,
  type SettingKey,
} from '../../src/settings/settings.ts';
import { requireManageServer } from '../bot/permissions.ts';
import { visibleLink } from '../bot/visibility.ts';
import type { SubcommandModule } from '../types.ts';

/** How each quality policy reads in Discord. */
const POLICY_NAMES: Record<QualityPolicy, string> = {
  fast: 'fast only',
  'pro-allowed': 'fast, pro on request',
  pro: 'pro',
};

/** The option of each setting, and how it reads. */
export const OPTIONS: Record<SettingKey, { option: string; label: string }> = {
  art_style: { option: 'art_style', label: 'Art style' },
  shape: { option: 'shape', label: 'Default shape' },
  quality: { option: 'quality', label: 'Quality' },
  daily_images: { option: 'daily_pictures', label: 'Daily pictures' },
  daily_usd: { option: 'daily_spend', label: 'Daily spend' },
};

/**
 * `/scene settings` (Manage Server): shows, privately, this server's settings for the channel's
 * campaign (art style, default shape, quality) and for the server (daily pictures and spend within
 * the operator's ceilings), with the latest changes; options change them (`reset` returns one, or
 * all, to the default of `campaign.yaml` and config). In a channel without a campaign only the
 * server's budgets can be changed.
 */
export const settings: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('settings')
    .setDescription("Show or change this server's art style, shape, quality and budgets (needs Manage Server)")
    .addStringOption((o) =>
      o
        .setName('art_style')
        .setDescription("The campaign's art style here, e.g. watercolour, muted tones")
        .setMinLength(1)
        .setMaxLength(MAX_ART_STYLE_CHARS),
    )
    .addStringOption((o) =>
      o
        .setName('shape')
        .setDescription('The default shape of pictures')
        .addChoices(...SHAPE_NAMES.map((s) => ({ name: `${s} ${SHAPES[s]}`, value: s }))),
    )
    .addStringOption((o) =>
      o
        .setName('quality')
        .setDescription('Fast pictures, or the pro model (as the operator allows)')
        .addChoices(...(Object.entries(POLICY_NAMES) as [QualityPolicy, string][]).map(([value, name]) => ({ name, value }))),
    )
    .addIntegerOption((o) =>
      o.setName('daily_pictures').setDescription('Pictures this server may make a day (within the operator’s ceiling)').setMinValue(0),
    )
    .addNumberOption((o) =>
      o.setName('daily_spend').setDescription('Estimated USD this server may spend a day (within the operator’s ceiling)').setMinValue(0),
    )
    .addStringOption((o) =>
      o
        .setName('reset')
        .setDescription('Return a setting to its default')
        .addChoices(
          { name: 'everything', value: 'all' },
          ...[...CAMPAIGN_SETTING_KEYS, ...GUILD_SETTING_KEYS].map((k) => ({ name: OPTIONS[k].label.toLowerCase(), value: k })),
        ),
    ),

  async execute(interaction, { limner }) {
    if (!(await requireManageServer(interaction, "see or change Limner's settings"))) return;
    const guildId = interaction.guildId;
    if (!guildId) throw new Error('/scene settings outside a guild');
    const link = await visibleLink(limner, interaction.channelId, guildId);
    const campaignId = link?.campaignId ?? null;
    const changes = changesOf(interaction, campaignId !== null);
    const made = changes.length > 0 ? await limner.settings.change(guildId, campaignId, changes, interaction.user.id) : [];
    const embed = await settingsEmbed(limner, guildId, campaignId);
    const content =
      changes.length === 0
        ? ''
        : made.length === 0
          ? 'Nothing changed: those are the settings already.'
          : `Changed: ${made.map(changeText).join('; ')}.`;
    await interaction.reply({ content, embeds: [embed], flags: MessageFlags.Ephemeral });
  },
};

/** The changes the options ask for: resets first, then new values. */
function changesOf(interaction: ChatInputCommandInteraction, linked: boolean): SettingChange[] {
  const changes: SettingChange[] = [];
  const reset = interaction.options.getString('reset');
  if (reset === 'all') {
    for (const key of [...(linked ? CAMPAIGN_SETTING_KEYS : []), ...GUILD_SETTING_KEYS]) changes.push({ key, value: null });
  } else if (reset) changes.push({ key: reset as SettingKey, value: null });
  const text = (key: SettingKey) => interaction.options.getString(OPTIONS[key].option);
  for (const key of ['art_style', 'shape', 'quality'] as const) {
    const value = text(key);
    if (value !== null) changes.push({ key, value });
  }
  const pictures = interaction.options.getInteger('daily_pictures');
  if (pictures !== null) changes.push({ key: 'daily_images', value: pictures });
  const spend = interaction.options.getNumber('daily_spend');
  if (spend !== null) changes.push({ key: 'daily_usd', value: spend });
  return changes;
}

/** The settings in force, each saying whether it is this server's or the default, and the latest changes. */
async function settingsEmbed(limner: Limner, guildId: string, campaignId: string | null): Promise<EmbedBuilder> {
  const { settings, config } = limner;
  const stored = await settings.stored(guildId, campaignId);
  const ceilings = settings.ceilings;
  const limits = settings.limitsOf(stored);
  const own = (set: boolean) => (set ? ' · set here' : ' · default');
  const embed = new EmbedBuilder();
  if (campaignId) {
    let campaignName = campaignId;
    let artStyle = '(unreadable campaign.yaml)';
    try {
      const campaign = await limner.campaigns.load(campaignId);
      campaignName = campaign.name;
      artStyle = campaign.artStyle;
    } catch (err) {
      if (!(err instanceof LimnerError)) throw err;
    }
    const policy = settings.qualityPolicy(stored);
    embed.setTitle(`Settings · ${campaignName}`).addFields(
      { name: 'Art style', value: `${stored.art_style ?? artStyle}${own(stored.art_style !== null)}` },
      {
        name: 'Default shape',
        value: `${stored.shape ? shapeLabel(SHAPES[stored.shape]) : shapeLabel(config.generation.aspect_ratio)}${own(stored.shape !== null)}`,
        inline: true,
      },
      {
        name: 'Quality',
        value: `${POLICY_NAMES[policy]}${own(stored.quality !== null)}${settings.proOffered ? '' : ' (the operator offers no pro model)'}`,
        inline: true,
      },
    );
  } else {
    embed
      .setTitle('Settings · this server')
      .setDescription('This channel has no campaign: link one to set its art style, shape and quality here.');
  }
  const ceiling = (n: number | null, unit: (x: number) => string) => (n === null ? 'no ceiling' : `ceiling ${unit(n)}`);
  const limit = (n: number | null, unit: (x: number) => string) => (n === null ? 'no limit' : unit(n));
  const dollars = (x: number) => `$${x.toFixed(2)}`;
  const pictures = (x: number) => `${x} pictures`;
  embed.addFields(
    {
      name: 'Daily pictures (this server)',
      value: `${limit(limits.images, pictures)}${own(stored.daily_images !== null)} (${ceiling(ceilings.images, pictures)})`,
      inline: true,
    },
    {
      name: 'Daily spend (this server)',
      value: `${limit(limits.usd, dollars)}${own(stored.daily_usd !== null)} (${ceiling(ceilings.usd, dollars)})`,
      inline: true,
    },
  );
  const history = await settings.history(guildId);
  if (history.length > 0) {
    embed.addFields({
      name: 'Latest changes',
      value: history.map((c) => `<t:${Math.floor(Date.parse(c.at) / 1000)}:R> <@${c.changedBy}>: ${changeText(c)}`).join('\n'),
    });
  }
  return embed.setFooter({
    text: 'Change with the options of /scene settings; reset returns to the campaign’s and the operator’s defaults.',
  });
}

/** `shape: landscape → portrait`, `daily pictures: default → 20`. */
function changeText(c: RecordedChange): string {
  const show = (v: string | number | null) => {
    if (v === null) return 'default';
    if (c.key === 'quality') return POLICY_NAMES[v as QualityPolicy] ?? String(v);
    if (c.key === 'daily_usd') return `$${Number(v).toFixed(2)}`;
    const text = String(v);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  };
  return `${OPTIONS[c.key].label.toLowerCase()}: ${show(c.oldValue)} → ${show(c.newValue)}`;
}
