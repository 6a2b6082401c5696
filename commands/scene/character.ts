import { DescriptionRequiredError } from '../../src/cast/errors.ts';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { MessageFlags, PermissionFlagsBits, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { CAST_NEEDS_MANAGE } from '../cast/buttons.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { writeFileAtomic } from '../../src/platform/files.ts';
import { userReferencePng } from '../../src/images/reference.ts';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import type { LinkedContext, SubcommandModule } from '../types.ts';

/** Where portraits go inside a campaign folder: `characters/<user id>.png`. */
const PORTRAITS_DIR = 'characters';

/**
 * `/scene character name:<..> [description:<..>] [portrait:<image>] [proxy:<name>]`. In a
 * play-by-post campaign it registers the character the member plays, replacing an earlier one: their
 * messages, and those a proxy bot posts under the proxy name (80 characters at most, as Discord
 * allows webhook names), then read as the character's in prompts, the description goes to the prompt
 * writer and the portrait (shrunk to 1024 pixels a side, PNG) to the image model as a reference. In
 * any other campaign it adds or changes a member of the cast (needs Manage Server): the description
 * replaces its looks, the portrait its reference portrait (see `CastCampaign.setCharacter`).
 * The answer, refusals included, is private; it is deferred before the story is read.
 */
export const character: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('character')
    .setDescription('Register the character you play (play-by-post), or set a cast member’s looks and portrait')
    .addStringOption((o) => o.setName('name').setDescription('Your character’s name').setRequired(true).setMinLength(1).setMaxLength(100))
    .addStringOption((o) => o.setName('description').setDescription('What the character looks like').setMinLength(1).setMaxLength(1000))
    .addAttachmentOption((o) => o.setName('portrait').setDescription('A picture of the character (PNG, JPEG, WebP or GIF)'))
    .addStringOption((o) =>
      o
        .setName('proxy')
        .setDescription('The name a proxy bot (Tupperbox, PluralKit) posts your character’s messages under')
        .setMinLength(1)
        .setMaxLength(80),
    ),

  async execute(interaction, ctx) {
    const { limner, link } = ctx;
    // Loading a play-by-post story, downloading and decoding the portrait can each take longer than the 3 s Discord allows.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const campaign = await limner.campaigns.load(link.campaignId);
    if (campaign.source.kind !== 'channel') return castCharacter(interaction, ctx);
    const name = interaction.options.getString('name', true).trim();
    const description = interaction.options.getString('description')?.trim();
    if (!description) throw new DescriptionRequiredError(name);
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
    await limner.stories.setCharacter(campaign.id, { userId: interaction.user.id, name, description, portrait, proxyName });
    const yours = proxyName ? `your messages and those posted as “${proxyName}”` : 'your messages';
    await interaction.editReply(
      `You play **${name}** in **${campaign.name}**: ${yours} read as ${name}'s, ` +
        `and the description${portrait ? ' and portrait go' : ' goes'} with every picture from now on.`,
    );
  },
};

/**
 * `/scene character` in a campaign whose story is a transcript: adds or changes a cast member by name
 * (Manage Server), its portrait replaced by the attached image when there is one.
 */
async function castCharacter(interaction: ChatInputCommandInteraction, { limner, link }: LinkedContext): Promise<void> {
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
    await interaction.editReply(CAST_NEEDS_MANAGE);
    return;
  }
  const attachment = interaction.options.getAttachment('portrait');
  const limits = downloadLimits(limner.config);
  if (attachment) checkAttachment(attachment, limits);
  const description = interaction.options.getString('description') ?? undefined;
  const { member, image } = await limner.cast.setCharacter({
    campaignId: link.campaignId,
    requester: requesterOf(interaction),
    name: interaction.options.getString('name', true),
    ...(description ? { description } : {}),
    ...(attachment ? { image: await downloadAttachment(attachment, limits) } : {}),
  });
  await interaction.editReply(
    `**${member.name}** is in the cast${image ? ' with the portrait you gave' : ''}: ` +
      `${member.portraitImageId ? 'their looks and portrait go' : 'their looks go'} with every scene they are in.`,
  );
}
