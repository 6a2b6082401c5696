import { LabelBuilder, MessageFlags, ModalBuilder, PermissionFlagsBits, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { CastRequest } from '../../src/cast/cast.ts';
import { CastMemberNotFoundError } from '../../src/cast/errors.ts';
import type { CastMember } from '../../src/cast/store.ts';
import { requesterOf } from '../bot/picture-reply.ts';
import { ProgressReply } from '../bot/progress.ts';
import { replyWithError } from '../bot/respond.ts';
import { visibleLink } from '../bot/visibility.ts';
import { castProgressText } from '../messages.ts';
import type { BotContext, ComponentInteraction, ComponentModule } from '../types.ts';
import { CAST_ID, DESCRIPTION_FIELD, portraitMessage } from './cast-message.ts';

/** Longest description an owner may write, characters (as `campaign.yaml` allows). */
const DESCRIPTION_MAX_CHARS = 1000;

/** Shown to members without Manage Server. */
export const CAST_NEEDS_MANAGE = 'Only members with **Manage Server** can manage the cast.';

/**
 * The member a cast button or modal acts on, after the checks every one of them makes: the presser
 * has Manage Server (answered privately otherwise, returning undefined), and the member belongs to
 * the campaign of the channel the button was pressed in.
 * @throws CastMemberNotFoundError for a member of another campaign or one that is gone.
 */
async function memberOf(interaction: ComponentInteraction, ctx: BotContext, args: readonly string[]): Promise<CastMember | undefined> {
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
    await interaction.reply({ content: CAST_NEEDS_MANAGE, flags: MessageFlags.Ephemeral });
    return undefined;
  }
  const id = Number(args[0]);
  const link = await visibleLink(ctx.limner, interaction.channelId ?? '', interaction.guildId);
  if (!Number.isSafeInteger(id) || !link) throw new CastMemberNotFoundError(link?.campaignId ?? '?', `#${args[0] ?? ''}`);
  return ctx.limner.cast.member(link.campaignId, id);
}

/** Runs a handler, answering a refusal privately. */
function guarded(
  prefix: string,
  handle: (interaction: ComponentInteraction, ctx: BotContext, member: CastMember) => Promise<void>,
): ComponentModule {
  return {
    prefix,
    async handle(interaction, ctx, args) {
      const log = ctx.limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
      try {
        const member = await memberOf(interaction, ctx, args);
        if (member) await handle(interaction, ctx, member);
      } catch (err) {
        await replyWithError(interaction, err, log, { providerErrorId: true });
      }
    },
  };
}

/**
 * Answers privately with the member's portrait: the one it has, or one painted now (progress shown in
 * the reply), with a Reroll portrait button. Budgets are checked before anything is painted.
 * @throws what the use case throws; the caller answers it privately.
 */
async function answerWithPortrait(interaction: ComponentInteraction, ctx: BotContext, member: CastMember, reroll: boolean): Promise<void> {
  const { cast } = ctx.limner;
  const request: CastRequest & { memberId: number; reroll: boolean } = {
    campaignId: member.campaignId,
    requester: requesterOf(interaction),
    memberId: member.id,
    reroll,
  };
  if (reroll || !member.portraitImageId) await cast.check(request);
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const log = ctx.limner.log.child({ interaction: interaction.id, user: interaction.user.id });
  const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
  let result: Awaited<ReturnType<typeof cast.portrait>>;
  try {
    result = await cast.portrait(request, {
      onProgress: (event) => {
        const text = castProgressText(event);
        if (event.stage === 'queued' && text) progress.showPlace(text);
        else if (text) progress.show(text);
      },
    });
  } finally {
    // Sent before the answer or the error, so a late progress line cannot overwrite either.
    await progress.settled();
  }
  await interaction.editReply(await portraitMessage(result, interaction.attachmentSizeLimit, ctx.limner.images));
}

/** Accept: the member joins the cast and gets its portrait, painted now unless it has one. */
export const acceptButton = guarded(CAST_ID.accept, async (interaction, ctx, member) => {
  const accepted = await ctx.limner.cast.accept(member.campaignId, member.id);
  await answerWithPortrait(interaction, ctx, accepted, false);
});

/** Drop: the member leaves the cast and is not proposed again. */
export const dropButton = guarded(CAST_ID.drop, async (interaction, ctx, member) => {
  const dropped = await ctx.limner.cast.drop(member.campaignId, member.id);
  await interaction.reply({
    content: `Dropped **${dropped.name}** from the cast: no portrait goes with scenes, and the story will not propose them again.`,
    flags: MessageFlags.Ephemeral,
  });
});

/** Edit: a modal pre-filled with the member's looks. */
export const editButton = guarded(CAST_ID.edit, async (interaction, _ctx, member) => {
  if (!interaction.isButton()) throw new Error(`${interaction.customId} is a button`);
  await interaction.showModal(
    new ModalBuilder()
      .setCustomId(`${CAST_ID.editModal}:${member.id}`)
      .setTitle(`${member.name}`.slice(0, 45))
      .addLabelComponents(
        new LabelBuilder()
          .setLabel('What do they look like?')
          .setDescription('Build, face, hair, clothing, signature items; no names.')
          .setTextInputComponent(
            new TextInputBuilder()
              .setCustomId(DESCRIPTION_FIELD)
              .setStyle(TextInputStyle.Paragraph)
              .setValue(member.description.slice(0, DESCRIPTION_MAX_CHARS))
              .setRequired(true)
              .setMinLength(1)
              .setMaxLength(DESCRIPTION_MAX_CHARS),
          ),
      ),
  );
});

/**
 * The submitted edit: the member is accepted with the new looks; a member without a portrait gets
 * one painted from them, one with a portrait keeps it (Reroll portrait paints a new one).
 */
export const editModal = guarded(CAST_ID.editModal, async (interaction, ctx, member) => {
  if (!interaction.isModalSubmit()) throw new Error(`${interaction.customId} is a modal`);
  const accepted = await ctx.limner.cast.accept(member.campaignId, member.id, interaction.fields.getTextInputValue(DESCRIPTION_FIELD));
  if (accepted.portraitImageId) {
    await interaction.reply({
      content: `Updated the looks of **${accepted.name}**. Their portrait stays; press **Reroll portrait** to paint it from the new description.`,
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await answerWithPortrait(interaction, ctx, accepted, false);
});

/** Paint / Reroll portrait: a new portrait for an accepted member (the previous one stays stored as its parent). */
export const portraitButton = guarded(CAST_ID.portrait, async (interaction, ctx, member) => {
  await answerWithPortrait(interaction, ctx, member, true);
});

/** Every cast component, for the registry in commands/index.ts. */
export const castComponents: readonly ComponentModule[] = [acceptButton, dropButton, editButton, editModal, portraitButton];
