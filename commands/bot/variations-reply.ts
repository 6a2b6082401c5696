import { AttachmentBuilder, EmbedBuilder, type RepliableInteraction, type SlashCommandIntegerOption } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { MAX_VARIATIONS, type SceneRequest, type VariationsRequest, type VariationsResult } from '../../src/scenes/illustrate.ts';
import { variationSheet } from '../../src/images/variation-sheet.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { ImageGoneError } from '../../src/edits/errors.ts';
import { variationButtons } from '../edit/ids.ts';
import type { BotContext } from '../types.ts';
import { heavyWork } from './heavy-work.ts';
import { answerPublicly, answerWithScene, reportProgress } from './picture-reply.ts';
import { finishReply } from './respond.ts';
import type { SceneMessage } from './scene-message.ts';
import { turnTitle } from './scene-message.ts';

/** The `count` option of `/scene current`, `turn` and `best`. */
export const COUNT_OPTION = 'count';

/** Builds the {@link COUNT_OPTION} option: 1-{@link MAX_VARIATIONS} variations of the same prompt. */
export function addCountOption(option: SlashCommandIntegerOption): SlashCommandIntegerOption {
  return option
    .setName(COUNT_OPTION)
    .setDescription(`Paint 1-${MAX_VARIATIONS} variations of the same prompt and pick one (each counts against budgets)`)
    .setMinValue(1)
    .setMaxValue(MAX_VARIATIONS);
}

const EMBED_DESCRIPTION_MAX = 4096;
/** Discord's limit on an embed field's value, characters. */
const EMBED_FIELD_MAX = 1024;
const SHEET_NAME = 'variations.jpg';

/**
 * Answers a scene command: one picture ({@link answerWithScene}) or, with `count` over 1, that many
 * variations on one contact sheet ({@link answerWithVariations}).
 */
export function answerWithScenes(
  interaction: RepliableInteraction,
  ctx: BotContext,
  request: SceneRequest,
  count: number | null,
  title: (turn: number) => string,
): Promise<void> {
  if (count === null || count <= 1) return answerWithScene(interaction, ctx, request, title);
  return answerWithVariations(interaction, ctx, { ...request, count });
}

/**
 * Answers with `request.count` variations of one scene: the use case's check (budgets for every
 * picture; a refusal is private), a public defer, progress (`Painting… 2/4`), then one contact image
 * numbered 1 to n with a **Use n** button per picture, recorded as the sheet of those pictures so a
 * deletion can redraw it. Never throws.
 */
export function answerWithVariations(interaction: RepliableInteraction, ctx: BotContext, request: VariationsRequest): Promise<void> {
  const { limner } = ctx;
  return answerPublicly(interaction, ctx, {
    check: () => limner.scenes.check(request),
    run: (progress) => limner.scenes.variations(request, { onProgress: (p) => reportProgress(progress, p) }),
    show: async (result) => {
      const ids = result.variations.map((v) => v.image.id);
      const missing = result.failed > 0 ? `${result.failed} of the ${request.count} variations could not be painted.` : undefined;
      const payload = await heavyWork(() => variationsMessage(limner, ids, missing, result));
      // Only when every variation was deleted before it could be shown.
      if (!payload) throw new ImageGoneError(ids[0]!);
      const shown = await finishReply(interaction, payload);
      await limner.links.recordSheetMessage({
        messageId: shown.id,
        imageIds: ids,
        guildId: interaction.guildId,
        channelId: shown.channelId,
      });
    },
  });
}

/**
 * The message of a contact sheet of variations, numbered in the order of `imageIds`: the sheet, an
 * embed with the turn, the shared prompt and the total estimated cost, and a Use button per picture
 * still stored (a deleted one keeps its number, drawn as deleted, without a button).
 * @param note - A line above the sheet, e.g. that some variations failed.
 * @param painted - When the variations were just painted: the director's note and the portraits
 *   referenced, shown as fields (a redraw after a deletion has only what is stored).
 * @returns undefined when none of the pictures is still stored.
 */
export async function variationsMessage(
  limner: Limner,
  imageIds: readonly string[],
  note?: string,
  painted?: Pick<VariationsResult, 'note' | 'referenced'>,
): Promise<SceneMessage | undefined> {
  const rows = await Promise.all(imageIds.map(async (id) => (await limner.images.get(id)) ?? null));
  const live = rows.filter((r): r is ImageRow => r !== null);
  const first = live[0];
  if (!first) return undefined;
  const sheet = await variationSheet(
    rows.map((r) => (r ? { read: () => limner.images.read(r) } : null)),
    limner.config.generation.max_input_pixels,
  );
  const file = new AttachmentBuilder(sheet.data, { name: SHEET_NAME });
  const cost = live.reduce((total, r) => total + r.costUsd, 0);
  const embed = new EmbedBuilder()
    .setTitle(turnTitle(first.turn, `${imageIds.length} variations`))
    .setDescription(first.prompt.length <= EMBED_DESCRIPTION_MAX ? first.prompt : `${first.prompt.slice(0, EMBED_DESCRIPTION_MAX - 1)}…`)
    .setImage(`attachment://${SHEET_NAME}`)
    .setFooter({ text: `${first.model} · ${first.width}×${first.height} each · est. $${cost.toFixed(3)}` })
    .setTimestamp(new Date(first.createdAt));
  if (painted?.note) embed.addFields({ name: "Director's note", value: painted.note.slice(0, EMBED_FIELD_MAX) });
  if (painted && painted.referenced.length > 0) {
    embed.addFields({ name: 'Portraits referenced', value: painted.referenced.join(', ').slice(0, EMBED_FIELD_MAX) });
  }
  const pick = `Press **Use 1**${imageIds.length > 1 ? `–**Use ${imageIds.length}**` : ''} to post that one full size and make it your edit session.`;
  return {
    content: note ? `${note}\n${pick}` : pick,
    embeds: [embed],
    files: [file],
    components: [variationButtons(rows.map((r) => r?.id ?? null))],
  };
}
