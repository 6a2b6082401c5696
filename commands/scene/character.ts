import { NotPlayByPostError } from '../errors.ts';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { MessageFlags, SlashCommandSubcommandBuilder } from 'discord.js';
import { writeFileAtomic } from '../../src/platform/files.ts';
import { userReferencePng } from '../../src/images/reference.ts';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import type { SubcommandModule } from '../types.ts';

/** Where portraits go inside a campaign folder: `characters/<user id>.png`. */
const PORTRAITS_DIR = 'characters';

/**
 * `/scene character name:<..> description:<..> [portrait:<image>] [proxy:<name>]`: registers the
 * character the member plays in this channel's play-by-post campaign, replacing an earlier one.
 * Their messages, and those a proxy bot posts under the proxy name (80 characters at most, as
 * Discord allows webhook names), then read as the character's in prompts, the description goes to the prompt writer and the
 * portrait (shrunk to 1024 pixels a side, PNG) to the image model as a reference.
 * The answer, refusals included, is private; it is deferred before the story is read.
 */
export const character: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('character')
    .setDescription('Register the character you play in this channel (play-by-post)')
    .addStringOption((o) => o.setName('name').setDescription('Your character’s name').setRequired(true).setMinLength(1).setMaxLength(100))
    .addStringOption((o) =>
      o.setName('description').setDescription('What your character looks like').setRequired(true).setMinLength(1).setMaxLength(1000),
    )
    .addAttachmentOption((o) => o.setName('portrait').setDescription('A picture of your character (PNG, JPEG, WebP or GIF)'))
    .addStringOption((o) =>
      o
        .setName('proxy')
        .setDescription('The name a proxy bot (Tupperbox, PluralKit) posts your character’s messages under')
        .setMinLength(1)
        .setMaxLength(80),
    ),

  async execute(interaction, { limner, link }) {
    // Loading a play-by-post story, downloading and decoding the portrait can each take longer than the 3 s Discord allows.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const campaign = await limner.campaigns.load(link.campaignId);
    if (campaign.source.kind !== 'channel') {
      throw new NotPlayByPostError(campaign.id, 'its characters are listed in its campaign.yaml (`characters`).');
    }
    const name = interaction.options.getString('name', true).trim();
    const description = interaction.options.getString('description', true).trim();
    const proxyName = interaction.options.getString('proxy')?.trim() || null;
    const attachment = interaction.options.getAttachment('portrait');
    const limits = downloadLimits(limner.config);
    if (attachment) checkAttachment(attachment, limits);
    const relative = `${PORTRAITS_DIR}/${interaction.user.id}.png`;
    const file = path.join(campaign.dir, relative);
    if (attachment) {
      const png = await userReferencePng(await downloadAttachment(attachment, limits), limner.config.generation.max_input_pixels);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, png);
    } else {
      await rm(file, { force: true });
    }
    const portrait = attachment ? relative : null;
    limner.stories.setCharacter(campaign.id, { userId: interaction.user.id, name, description, portrait, proxyName });
    const yours = proxyName ? `your messages and those posted as “${proxyName}”` : 'your messages';
    await interaction.editReply(
      `You play **${name}** in **${campaign.name}**: ${yours} read as ${name}'s, ` +
        `and the description${portrait ? ' and portrait go' : ' goes'} with every picture from now on.`,
    );
  },
};
