import type { ImageStore } from '../../src/images/store.ts';
import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder } from 'discord.js';
import type { CastProposal, PortraitResult } from '../../src/cast/cast.ts';
import type { CastMember } from '../../src/cast/store.ts';
import { safeCampaignName } from '../../src/exports/names.ts';
import { fitPreview } from '../../src/images/preview.ts';

/**
 * `custom_id` prefixes of the cast buttons and modal; the member's id follows after a colon
 * (`cast-accept:12`).
 */
export const CAST_ID = {
  accept: 'cast-accept',
  edit: 'cast-edit',
  drop: 'cast-drop',
  portrait: 'cast-portrait',
  editModal: 'cast-edit-modal',
} as const;

/** The text input of the edit modal. */
export const DESCRIPTION_FIELD = 'description';

/** Members shown in one message: Discord allows five rows of buttons, one row a member. */
export const MEMBERS_PER_MESSAGE = 5;

const number = new Intl.NumberFormat('en-US');

/** A private message's body: text, embeds, files and button rows. */
export interface CastMessage {
  readonly content: string;
  readonly embeds: EmbedBuilder[];
  readonly files: AttachmentBuilder[];
  readonly components: ActionRowBuilder<ButtonBuilder>[];
}

/**
 * The proposal as messages of at most {@link MEMBERS_PER_MESSAGE} members each: the first says what was
 * read, then each member is an embed (name, state, looks) with a row of buttons: Accept, Edit, Drop for
 * a proposed member; Edit, Paint or Reroll portrait, Drop for an accepted one.
 */
export function proposalMessages(proposal: CastProposal, turns: number): CastMessage[] {
  const { members } = proposal;
  const lines = [
    `**Cast of ${proposal.campaign.name}**: ${members.length === 1 ? '1 character' : `${number.format(members.length)} characters`} ` +
      `from ${number.format(turns)} turns (${proposal.passages === 1 ? '1 passage' : `${number.format(proposal.passages)} passages`}` +
      `${proposal.cached ? ', read before' : ''}).`,
    members.length > 0
      ? 'Accept, edit or drop each one. An accepted character gets a reference portrait, which goes with every scene they are in.'
      : 'The story names no recurring character yet.',
  ];
  if (proposal.defined.length > 0) lines.push(`Defined in campaign.yaml, which wins: ${proposal.defined.join(', ')}.`);
  const pages: CastMessage[] = [];
  for (let i = 0; i < Math.max(1, members.length); i += MEMBERS_PER_MESSAGE) {
    const page = members.slice(i, i + MEMBERS_PER_MESSAGE);
    pages.push({
      content: i === 0 ? lines.join('\n') : '',
      embeds: page.map(memberEmbed),
      files: [],
      components: page.map(memberButtons),
    });
  }
  return pages;
}

function memberEmbed(member: CastMember): EmbedBuilder {
  const state =
    member.status === 'proposed' ? 'proposed' : member.portraitImageId ? 'in the cast, with a portrait' : 'in the cast, no portrait yet';
  return new EmbedBuilder().setTitle(`${member.name} · ${state}`.slice(0, 256)).setDescription(member.description.slice(0, 4096));
}

function memberButtons(member: CastMember): ActionRowBuilder<ButtonBuilder> {
  const button = (prefix: string, label: string, style: ButtonStyle) =>
    new ButtonBuilder().setCustomId(`${prefix}:${member.id}`).setLabel(label).setStyle(style);
  const edit = button(CAST_ID.edit, 'Edit', ButtonStyle.Primary);
  const drop = button(CAST_ID.drop, 'Drop', ButtonStyle.Danger);
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    member.status === 'proposed'
      ? [button(CAST_ID.accept, 'Accept', ButtonStyle.Success), edit, drop]
      : [edit, portraitButton(member), drop],
  );
}

function portraitButton(member: CastMember): ButtonBuilder {
  return new ButtonBuilder()
    .setCustomId(`${CAST_ID.portrait}:${member.id}`)
    .setLabel(member.portraitImageId ? 'Reroll portrait' : 'Paint portrait')
    .setStyle(ButtonStyle.Secondary);
}

/**
 * A member's portrait: the picture (a WebP/JPEG preview when the PNG is over `limitBytes`), an embed
 * with the looks and the cost, and a Reroll portrait button.
 * @param limitBytes - The interaction's `attachmentSizeLimit`, bytes.
 * @param images - Reads the stored PNG when `result` does not carry it.
 * @throws PictureNotFoundError when the stored PNG is missing.
 */
export async function portraitMessage(result: PortraitResult, limitBytes: number, images: Pick<ImageStore, 'read'>): Promise<CastMessage> {
  const { member, image } = result;
  const png = result.png ?? (await images.read(image));
  const stem = `${safeCampaignName(result.campaign.name, result.campaign.id)}_portrait_${safeCampaignName(member.name, String(member.id))}`;
  let file = new AttachmentBuilder(png, { name: `${stem}.png` });
  if (png.byteLength > limitBytes) {
    const preview = await fitPreview(png, limitBytes);
    if (preview) file = new AttachmentBuilder(preview.data, { name: `${stem}.${preview.format === 'webp' ? 'webp' : 'jpg'}` });
  }
  const content = result.painted
    ? `**${member.name}** is in the cast; this portrait goes with every scene they are in.`
    : `**${member.name}** already has a portrait, painted once and kept.`;
  const embed = new EmbedBuilder()
    .setTitle(`${member.name} · reference portrait`.slice(0, 256))
    .setDescription(member.description.slice(0, 4096))
    .setImage(`attachment://${file.name}`)
    .setFooter({
      text: `${image.model === 'upload' ? 'uploaded' : image.model} · ${image.width}×${image.height} · est. $${image.costUsd.toFixed(3)} · replace it with /scene character name:${member.name} portrait:<image>`.slice(
        0,
        2048,
      ),
    });
  return {
    content,
    embeds: [embed],
    files: [file],
    components: [new ActionRowBuilder<ButtonBuilder>().addComponents(portraitButton({ ...member, portraitImageId: image.id }))],
  };
}
