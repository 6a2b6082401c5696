import {
  AttachmentBuilder,
  EmbedBuilder,
  Routes,
  type ActionRowBuilder,
  type ButtonBuilder,
  type ChatInputCommandInteraction,
  type RepliableInteraction,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import { sceneButtons } from '../edit/ids.ts';
import { scanProgressText } from '../../src/scenes/best/scanner.ts';
import type { SceneRequest, SceneResult, SceneStage } from '../../src/scenes/illustrate.ts';
import { downloadName } from '../../src/exports/names.ts';
import { fitPreview } from '../../src/images/preview.ts';
import { readFile } from 'node:fs/promises';
import type { BotContext, LinkedContext } from '../types.ts';
import { ProgressReply } from './progress.ts';
import { finishReply, replyWithError, type ShownMessage } from './respond.ts';

/**
 * Progress lines shown in the reply while a scene is made. Reading the campaign and saving the
 * picture take milliseconds: a line for them would cost a Discord request each (and a share of the
 * 50 a second every request counts against) and be replaced before anyone read it.
 */
const STAGE_TEXT: Readonly<Partial<Record<SceneStage, string>>> = {
  scanning: 'Scanning the session…',
  prompting: 'Writing the prompt…',
  painting: 'Painting…',
};

const EMBED_DESCRIPTION_MAX = 4096;
/** Discord's limit on an embed field's value, characters. */
const EMBED_FIELD_MAX = 1024;
const number = new Intl.NumberFormat('en-US');

/**
 * Runs a scene request for a slash command (or "Illustrate this message"): checks what needs no model (a refusal is answered
 * privately, never flashed in the channel), defers (unless the caller already did, publicly), edits the reply as each stage starts, then posts the picture with its embed and records the message against the image.
 * Failures become ephemeral messages (see {@link replyWithError}).
 * @param title - Embed title for the finished turn, e.g. `Turn 1,503 · current scene`.
 */
export async function illustrateForInteraction(
  interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction,
  ctx: LinkedContext,
  request: SceneRequest,
  title: (turn: number) => string,
): Promise<void> {
  const log = ctx.limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
  const job = {
    kind: interaction.isChatInputCommand() ? `scene ${interaction.options.getSubcommand()}` : 'scene message',
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    campaignId: request.campaignId,
    interaction: { id: interaction.id, token: interaction.token },
  };
  try {
    await ctx.limner.generation.precheck(request);
    ctx.limner.runner.precheck(job);
  } catch (err) {
    await replyWithError(interaction, err, log);
    return;
  }
  // "Illustrate this message" defers before it reads the story to find the message's turn.
  if (!interaction.deferred) await interaction.deferReply();
  const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
  const show = async (scene: SceneResult): Promise<ShownMessage> => {
    await progress.settled();
    const reply = await sceneReply(scene, title(scene.image.turn), interaction.attachmentSizeLimit);
    return finishReply(interaction, scene.reused ? { ...reply, content: reusedText(scene.reused.ageMs, reply.content) } : reply);
  };
  // Started as soon as the picture is painted, so the upload overlaps its durable save.
  let shown: Promise<ShownMessage> | undefined;
  try {
    const result = await ctx.limner.runner.run(
      job,
      ({ jobId, signal }) =>
        ctx.limner.generation.illustrate(
          { ...request, origin: { guildId: interaction.guildId, channelId: interaction.channelId, jobId } },
          {
            onProgress: (stage, scan) => {
              progress.dropPlace();
              const text = scan ? scanProgressText(scan) : STAGE_TEXT[stage];
              if (text) progress.showLatest(text);
            },
            onPainted: (painted) => {
              shown = show(painted);
              // Awaited below, or settled before the failure is shown.
              shown.catch(() => undefined);
            },
            signal,
          },
        ),
      { onPosition: (place) => progress.showPlace(queueText(place)), imageOf: (r) => r.image.id },
    );
    await recordScene(interaction, ctx, result.image.id, await (shown ?? show(result)));
  } catch (err) {
    // A picture shown before its save failed is taken back: with the public reply (sendEphemeral),
    // or, posted in the channel for want of time on the token, on its own.
    const visible = await shown?.catch(() => undefined);
    if (visible?.kind === 'post') {
      await interaction.client.rest.delete(Routes.channelMessage(visible.channelId, visible.id)).catch((deleteErr: unknown) => {
        log.warn({ err: deleteErr, messageId: visible.id }, 'could not take back a picture whose save failed');
      });
    }
    await progress.settled();
    await replyWithError(interaction, err, log);
  }
}

/**
 * The finished scene message: the picture as an attachment named `{campaign}_turn_{N}_{mode}.png`
 * (seed 17-6), an embed with the title, the prompt and a footer (model, pixels, estimated USD), and
 * for `/scene best` the chosen turn's quote and the scanner's reason as fields.
 * A PNG over `limitBytes` is replaced by a WebP/JPEG preview that fits; the PNG stays on disk for export.
 * Under it go the Edit, Reroll and Undo buttons ({@link sceneButtons}).
 * @param limitBytes - The interaction's `attachmentSizeLimit`, bytes.
 */
export async function sceneReply(
  result: Pick<SceneResult, 'image' | 'file' | 'png' | 'campaign' | 'best'>,
  title: string,
  limitBytes: number,
): Promise<SceneMessage> {
  const { image, campaign } = result;
  const png = result.png ?? (await readFile(result.file));
  const nameParts = { campaignName: campaign.name, campaignId: campaign.id, turn: image.turn, mode: image.mode };
  let file = new AttachmentBuilder(png, { name: downloadName(nameParts) });
  let content = '';
  if (png.byteLength > limitBytes) {
    const preview = await fitPreview(png, limitBytes);
    if (!preview) {
      return {
        content: `The picture (${megabytes(png.byteLength)}) is too large to upload here; it is kept for export.`,
        embeds: [],
        files: [],
        components: [sceneButtons(image)],
      };
    }
    file = new AttachmentBuilder(preview.data, {
      name: downloadName({ ...nameParts, extension: preview.format === 'webp' ? 'webp' : 'jpg' }),
    });
    content = `Showing a compressed preview (${preview.format.toUpperCase()}, ${megabytes(preview.data.byteLength)}): the full PNG (${megabytes(png.byteLength)}) is kept for export.`;
  }
  const embed = new EmbedBuilder()
    .setTitle(title)
    .setDescription(truncate(image.prompt, EMBED_DESCRIPTION_MAX))
    .setImage(`attachment://${file.name}`)
    .setFooter({ text: `${image.model} · ${image.width}×${image.height} · est. $${image.costUsd.toFixed(3)}` })
    .setTimestamp(new Date(image.createdAt));
  if (result.best) {
    embed.addFields(
      { name: 'The moment', value: truncate(`> **${result.best.speaker}:** ${result.best.quote}`, EMBED_FIELD_MAX) },
      { name: 'Why this one', value: truncate(result.best.rationale, EMBED_FIELD_MAX) },
    );
  }
  return { content, embeds: [embed], files: [file], components: [sceneButtons(image)] };
}

/** A scene message's body, for an interaction's `editReply` and a message's `edit` alike. */
export interface SceneMessage {
  readonly content: string;
  readonly embeds: EmbedBuilder[];
  readonly files: AttachmentBuilder[];
  readonly components: ActionRowBuilder<ButtonBuilder>[];
}

/**
 * Shows a finished picture as the interaction's answer (see {@link finishReply}) and records the
 * message against the picture, for replies, buttons and galleries later.
 */
export async function postScene(interaction: RepliableInteraction, ctx: BotContext, imageId: string, payload: SceneMessage): Promise<void> {
  await recordScene(interaction, ctx, imageId, await finishReply(interaction, payload));
}

/** Records a shown picture's message against its (stored) picture, for replies, buttons and galleries later. */
async function recordScene(interaction: RepliableInteraction, ctx: BotContext, imageId: string, message: ShownMessage): Promise<void> {
  ctx.limner.links.recordSceneMessage({ messageId: message.id, imageId, guildId: interaction.guildId, channelId: message.channelId });
}

/** The progress line of a job waiting in the queue. */
export function queueText(place: number): string {
  const ahead = place - 1;
  return ahead === 0
    ? 'Waiting for a free painter… you are next.'
    : `Waiting for a free painter… ${number.format(ahead)} ${ahead === 1 ? 'request' : 'requests'} ahead of you.`;
}

/** Says a picture was reused instead of paid for again. */
function reusedText(ageMs: number, extra: string): string {
  const minutes = Math.max(1, Math.round(ageMs / 60_000));
  const line = `This scene was painted ${minutes} min ago, so here it is again. Press **Reroll** for a fresh one.`;
  return extra ? `${line}\n${extra}` : line;
}

/** `Turn 1,503` with the thousands separator users read. */
export function turnTitle(turn: number, suffix?: string): string {
  return `Turn ${number.format(turn)}${suffix ? ` · ${suffix}` : ''}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
