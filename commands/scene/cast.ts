import { MessageFlags, PermissionFlagsBits, SlashCommandSubcommandBuilder } from 'discord.js';
import { CAST_NEEDS_MANAGE } from '../cast/buttons.ts';
import { proposalMessages } from '../cast/cast-message.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { ProgressReply } from '../bot/progress.ts';
import { replyWithError } from '../bot/respond.ts';
import { castProgressText } from '../messages.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene cast` (Manage Server): the text model reads the channel's campaign and proposes the story's
 * recurring characters with their looks; the answer, private, lists them with Accept, Edit and Drop
 * buttons (five a message, further ones as follow-ups). Accepted characters get a reference portrait
 * (see commands/cast/buttons.ts). An unchanged story is read from the cache, with no model call.
 */
export const cast: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('cast')
    .setDescription("Propose the story's recurring characters and paint their reference portraits (needs Manage Server)"),

  async execute(interaction, { limner, link }) {
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      await interaction.reply({ content: CAST_NEEDS_MANAGE, flags: MessageFlags.Ephemeral });
      return;
    }
    const log = limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
    const request = { campaignId: link.campaignId, requester: requesterOf(interaction) };
    const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
    try {
      await limner.cast.check(request);
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const proposal = await limner.cast.propose(request, {
        onProgress: (event) => {
          const text = castProgressText(event);
          if (event.stage === 'queued' && text) progress.showPlace(text);
          else if (text) progress.showLatest(text);
        },
      });
      await progress.settled();
      const turns = limner.campaigns.lastLoaded(link.campaignId)?.transcript.entries.length ?? 0;
      const [first, ...more] = proposalMessages(proposal, turns);
      await interaction.editReply(first!);
      for (const page of more) await interaction.followUp({ ...page, flags: MessageFlags.Ephemeral });
    } catch (err) {
      // A progress line still on its way must not overwrite the error.
      await progress.settled();
      await replyWithError(interaction, err, log, { providerErrorId: true });
    }
  },
};
