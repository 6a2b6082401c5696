import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  MessageFlags,
  SlashCommandSubcommandBuilder,
  StringSelectMenuBuilder,
  type InteractionEditReplyOptions,
  type MessageActionRowComponentBuilder,
} from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { isCampaignId, parseCampaignId, type CampaignId } from '../../src/campaigns/id.ts';
import { isSnowflake } from '../../src/campaigns/channel.ts';
import { galleryPage, gallerySheet, tileLabel } from '../../src/images/gallery.ts';
import { downloadName, safeCampaignName } from '../../src/exports/names.ts';
import { fitPreview } from '../../src/images/preview.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { autocompleteCampaignsWithPictures, campaignName, campaignOption, chosenCampaign } from '../bot/campaign-choice.ts';
import { heavyWork } from '../bot/heavy-work.ts';
import { isVisible, requireVisible } from '../bot/visibility.ts';
import type { ComponentModule, SubcommandModule } from '../types.ts';
import { isImageId } from '../edit/ids.ts';
import { ComponentIdError } from '../errors.ts';

/** Previous/next buttons: `gallery:<campaignId>:<ownerId or empty>:<page>`, at most 99 characters. */
const PAGE_PREFIX = 'gallery';
/** The select menu that opens one picture of the page. */
const OPEN_PREFIX = 'gallery-open';

/** Shown for a campaign without pictures. */
export const NO_PICTURES = 'No pictures yet: try /scene current.';
const NO_PICTURES_OF_YOURS = 'You have no pictures in this campaign yet: try /scene current.';
/** Said of a picture that is gone, or that belongs to a campaign this guild may not see. */
const PICTURE_UNAVAILABLE = 'That picture is no longer available.';

const EMBED_DESCRIPTION_MAX = 4096;
const SELECT_TEXT_MAX = 100;

/** Which gallery a message shows; `owner` is set for `mine` galleries (the caller's Discord user id). */
interface GalleryQuery {
  readonly campaignId: CampaignId;
  readonly owner: string | undefined;
  readonly page: number;
}

/**
 * `/scene gallery [campaign] [mine] [page]`: a contact sheet of the campaign's pictures by turn,
 * with previous/next buttons and a menu that opens one picture full size. Without `campaign`,
 * the channel's linked campaign; in an unlinked channel, a private hint to choose one. Only
 * campaigns this guild may see are shown (see `visibleIn`), by the command and its components alike.
 */
export const gallery: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('gallery')
    .setDescription("Browse a campaign's pictures")
    .addStringOption(campaignOption)
    .addBooleanOption((o) => o.setName('mine').setDescription('Only the pictures you asked for'))
    .addIntegerOption((o) => o.setName('page').setDescription('Page to start on').setMinValue(1)),

  async execute(interaction, ctx) {
    const campaignId = await chosenCampaign(interaction, ctx);
    const query: GalleryQuery = {
      campaignId,
      owner: interaction.options.getBoolean('mine') ? interaction.user.id : undefined,
      page: interaction.options.getInteger('page') ?? 1,
    };
    const rows = await pictures(ctx.limner, query);
    if (rows.length === 0) {
      await interaction.reply({ content: query.owner ? NO_PICTURES_OF_YOURS : NO_PICTURES, flags: MessageFlags.Ephemeral });
      return;
    }
    // Decoding a page of full-size PNGs can take longer than the 3 s Discord allows before an answer.
    await interaction.deferReply();
    await interaction.editReply(await heavyWork(() => galleryMessage(ctx.limner, query, rows)));
  },

  autocomplete: autocompleteCampaignsWithPictures,
};

/** The previous/next buttons of a gallery message: redraws the message at the page in the custom id. */
export const galleryPager: ComponentModule = {
  prefix: PAGE_PREFIX,
  async handle(interaction, { limner }, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const query = pageQuery(args);
    // The custom id is checked again: a gallery message outlives changes to who may see its campaign.
    await requireVisible(limner, query.campaignId, interaction.guildId);
    const rows = await pictures(limner, query);
    if (rows.length === 0) {
      await interaction.update({ content: query.owner ? NO_PICTURES_OF_YOURS : NO_PICTURES, files: [], attachments: [], components: [] });
      return;
    }
    await interaction.deferUpdate();
    await interaction.editReply(await heavyWork(() => galleryMessage(limner, query, rows)));
  },
};

/** The "open a picture" menu: shows the chosen picture full size, privately, with its details. */
export const galleryLightbox: ComponentModule = {
  prefix: OPEN_PREFIX,
  async handle(interaction, { limner }, args) {
    if (!interaction.isStringSelectMenu()) throw new ComponentIdError('it is not a menu');
    const [imageId = '', ...more] = interaction.values;
    if (args.length > 0 || more.length > 0 || !isImageId(imageId)) throw new ComponentIdError('its choice is not one picture');
    const image = await limner.images.get(imageId);
    if (!image || !(await isVisible(limner, image.campaignId, interaction.guildId))) {
      await interaction.reply({ content: PICTURE_UNAVAILABLE, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.editReply(await heavyWork(() => lightbox(limner, image, interaction.attachmentSizeLimit)));
  },
};

/** A page number in a pager's custom id: plain decimal digits, no leading zero, within a safe integer. */
const PAGE = /^[1-9]\d{0,14}$/;

/**
 * The gallery a pager button shows, from its custom id after the prefix: `<campaignId>:<ownerId or
 * empty>:<page>`, each part as {@link galleryMessage} writes it.
 * @throws ComponentIdError naming the part that is not.
 */
function pageQuery(args: readonly string[]): GalleryQuery {
  const [campaign = '', owner = '', page = ''] = args;
  if (args.length !== 3) throw new ComponentIdError('it does not name a gallery page');
  if (!isCampaignId(campaign)) throw new ComponentIdError('its campaign id is not one');
  if (owner && !isSnowflake(owner)) throw new ComponentIdError('its member id is not one');
  if (!PAGE.test(page)) throw new ComponentIdError('its page must be a whole number of at least 1');
  return { campaignId: campaign, owner: owner || undefined, page: Number(page) };
}

/** The query's pictures, including any shown and still being stored. */
async function pictures(limner: Limner, query: GalleryQuery): Promise<ImageRow[]> {
  return limner.images.list(query.campaignId, query.owner ? { requestedBy: query.owner } : {});
}

async function galleryMessage(limner: Limner, query: GalleryQuery, rows: readonly ImageRow[]): Promise<InteractionEditReplyOptions> {
  const page = galleryPage(rows, query.page);
  const name = await campaignName(limner, query.campaignId);
  const sheet = await gallerySheet(page, (r) => limner.images.read(r), limner.config.generation.max_input_pixels);
  const file = new AttachmentBuilder(sheet.data, { name: `${safeCampaignName(name, query.campaignId)}_gallery_page${page.page}.jpg` });
  const count = `${page.total.toLocaleString('en-US')} ${page.total === 1 ? 'picture' : 'pictures'}`;
  const whose = query.owner ? ` by <@${query.owner}>` : '';
  const content = `**${name || query.campaignId}** · ${count}${whose} · page ${page.page} of ${page.pages}`;

  const open = new StringSelectMenuBuilder()
    .setCustomId(OPEN_PREFIX)
    .setPlaceholder('Open a picture full size')
    .addOptions(
      page.images.map((image) => ({
        label: tileLabel(image),
        value: image.id,
        description: truncate(image.prompt, SELECT_TEXT_MAX),
      })),
    );
  const components = [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(open)];
  if (page.pages > 1) {
    const turnTo = (target: number) => `${PAGE_PREFIX}:${query.campaignId}:${query.owner ?? ''}:${target}`;
    components.push(
      new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
        new ButtonBuilder()
          .setCustomId(turnTo(page.page - 1))
          .setLabel('Previous')
          .setEmoji('◀️')
          .setStyle(ButtonStyle.Secondary)
          .setDisabled(page.page === 1),
        new ButtonBuilder()
          .setCustomId(turnTo(page.page + 1))
          .setLabel('Next')
          .setEmoji('▶️')
          .setStyle(ButtonStyle.Secondary)
          .setDisabled(page.page === page.pages),
      ),
    );
  }
  return { content, files: [file], attachments: [], embeds: [], components };
}

/**
 * One picture full size with its prompt, turn, mode, creator and time. A PNG over the upload
 * limit is shown as a WebP/JPEG preview, as scene messages do; `/scene export` under the same limit
 * would hold it as a high-quality JPEG too, so the text says so rather than promise the PNG.
 * @param limitBytes - The interaction's `attachmentSizeLimit`, bytes.
 */
async function lightbox(limner: Limner, image: ImageRow, limitBytes: number): Promise<InteractionEditReplyOptions> {
  const name = await campaignName(limner, parseCampaignId(image.campaignId));
  const nameParts = { campaignName: name, campaignId: image.campaignId, turn: image.turn, mode: image.mode };
  const png = await limner.images.read(image);
  let file = new AttachmentBuilder(png, { name: downloadName(nameParts) });
  let content = '';
  if (png.byteLength > limitBytes) {
    const preview = await fitPreview(png, limitBytes);
    if (!preview) return { content: 'This picture is too large to show here, even as a compressed preview; the PNG stays on the server.' };
    file = new AttachmentBuilder(preview.data, {
      name: downloadName({ ...nameParts, extension: preview.format === 'webp' ? 'webp' : 'jpg' }),
    });
    content =
      `Showing a compressed preview (${preview.format.toUpperCase()}): the PNG is over this channel's upload limit, ` +
      'so `/scene export` here includes it as a high-quality JPEG. The PNG stays on the server.';
  }
  const created = Math.floor(Date.parse(image.createdAt) / 1000);
  const embed = new EmbedBuilder()
    .setTitle(tileLabel(image))
    .setDescription(truncate(image.prompt, EMBED_DESCRIPTION_MAX))
    .addFields(
      { name: 'Campaign', value: name || image.campaignId, inline: true },
      { name: 'Creator', value: image.requestedBy === 'cli' ? 'the operator (CLI)' : `<@${image.requestedBy}>`, inline: true },
      { name: 'Created', value: `<t:${created}:f>`, inline: true },
    )
    .setImage(`attachment://${file.name}`)
    .setFooter({ text: `${image.model} · ${image.width}×${image.height}` });
  return { content, embeds: [embed], files: [file] };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
