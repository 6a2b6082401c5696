import { InteractionContextType, MessageFlags, SlashCommandBuilder, type SlashCommandSubcommandsOnlyBuilder } from 'discord.js';
import { best } from './scene/best.ts';
import { cast } from './scene/cast.ts';
import { character } from './scene/character.ts';
import { current } from './scene/current.ts';
import { deletePicture } from './scene/delete.ts';
import { edit } from './scene/edit.ts';
import { exportImages } from './scene/export.ts';
import { gallery } from './scene/gallery.ts';
import { link } from './scene/link.ts';
import { recap } from './scene/recap.ts';
import { storybook } from './scene/storybook.ts';
import { turn } from './scene/turn.ts';
import { unlink } from './scene/unlink.ts';
import { usage } from './scene/usage.ts';
import { visibleLink } from './bot/visibility.ts';
import { help } from './scene/help.ts';
import { newCampaign } from './scene/new.ts';
import { settings } from './scene/settings.ts';
import { update } from './scene/update.ts';
import type { BotContext, CommandModule, SubcommandModule } from './types.ts';

const subcommands: readonly SubcommandModule[] = [
  current,
  turn,
  best,
  recap,
  edit,
  gallery,
  exportImages,
  storybook,
  usage,
  link,
  unlink,
  character,
  newCampaign,
  update,
  settings,
  cast,
  deletePicture,
  help(() => subcommands),
];
const byName = new Map(subcommands.map((s) => [s.data.name, s]));

/** Shown in a channel without a campaign. */
export const NOT_LINKED =
  'This channel is not linked to a campaign yet. Someone with **Manage Server** can link it with `/scene link campaign:<id>` or create one with `/scene new`; `/scene help` says more.';

/** `/scene`: every Limner subcommand under one application command. */
export const scene: CommandModule = {
  data: subcommands.reduce<SlashCommandSubcommandsOnlyBuilder>(
    (builder, sub) => builder.addSubcommand(sub.data),
    // Guild channels only: campaigns are linked per channel of a server.
    new SlashCommandBuilder().setName('scene').setDescription('Illustrate your campaign').setContexts(InteractionContextType.Guild),
  ),

  async execute(interaction, ctx) {
    const sub = byName.get(interaction.options.getSubcommand());
    if (!sub) throw new Error(`unknown /scene subcommand ${interaction.options.getSubcommand()}`);
    if (!sub.needsLink) return sub.execute(interaction, ctx);
    const channelLink = await visibleLink(ctx.limner, interaction.channelId, interaction.guildId);
    if (!channelLink) {
      await interaction.reply({ content: NOT_LINKED, flags: MessageFlags.Ephemeral });
      return;
    }
    return sub.execute(interaction, { ...ctx, link: channelLink });
  },

  async autocomplete(interaction, ctx: BotContext) {
    const sub = byName.get(interaction.options.getSubcommand());
    if (!sub?.autocomplete) return interaction.respond([]);
    if (!sub.needsLink) return sub.autocomplete(interaction, ctx);
    const channelLink = await visibleLink(ctx.limner, interaction.channelId, interaction.guildId);
    if (!channelLink) return interaction.respond([]);
    return sub.autocomplete(interaction, { ...ctx, link: channelLink });
  },
};
