import { AttachmentBuilder, SlashCommandSubcommandBuilder, type Message } from 'discord.js';
import { exportProgressText, megabytes, NoImagesToExportError, type ExportPlan } from '../../src/exports/export.ts';
import { autocompleteCampaignsWithPictures, campaignOption, chosenCampaign } from '../bot/campaign-choice.ts';
import { heavyWork } from '../bot/heavy-work.ts';
import type { SubcommandModule } from '../types.ts';
import { ProgressReply } from '../bot/progress.ts';

/** Discord's limit of files on one message. */
const FILES_PER_MESSAGE = 10;
/** Least time between two progress edits, ms: packing is fast, Discord's edit rate limit is not. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * `/scene export [campaign]`: every picture of the campaign as zips (seed 17-6 names, STORED
 * PNGs, `manifest.json`), each within the interaction's `attachmentSizeLimit`.
 *
 * The reply shows progress and then a summary; the zips follow in follow-up messages of up to ten.
 * Parts are built one at a time and each is added to its message as soon as it is ready
 * (editing the message with the files already on it kept), so only one part is ever in memory
 * however large the export. Planning (which may re-encode oversize pictures) and each part, built and
 * uploaded, take a turn of the bot's shared {@link heavyWork} queue, so concurrent exports and
 * galleries hold at most that many parts and decodes. If packing fails, the parts already posted stay.
 * Only campaigns this guild may see are exported (see `visibleIn`).
 */
export const exportImages: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('export')
    .setDescription('Download every picture of a campaign as zip files')
    .addStringOption(campaignOption),

  async execute(interaction, ctx) {
    const { limner } = ctx;
    const campaignId = await chosenCampaign(interaction, ctx);
    // Refused privately before the public reply: a campaign without pictures has nothing to export.
    if ((await limner.images.list(campaignId)).length === 0) throw new NoImagesToExportError();
    await interaction.deferReply();
    const log = limner.log.child({ interaction: interaction.id, campaign: campaignId });
    const plan = await heavyWork(() => limner.exports.plan({ campaignId, maxPartBytes: interaction.attachmentSizeLimit }));

    const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
    let lastShown = 0;
    let packed = 0;
    const show = (part: number, force = false) => {
      if (!force && Date.now() - lastShown < PROGRESS_INTERVAL_MS) return;
      lastShown = Date.now();
      const text = exportProgressText({ packed, total: plan.imageCount, part, parts: plan.parts.length });
      progress.showLatest(text);
    };

    let holder: Message | undefined;
    for (const part of plan.parts) {
      show(part.number, true);
      // The upload is inside the turn too: until it is done the part's zip is still in memory.
      holder = await heavyWork(async () => {
        const zip = await limner.exports.zip(part, () => {
          packed++;
          show(part.number);
        });
        const file = new AttachmentBuilder(zip, { name: part.name });
        // The reply must exist before the first follow-up, or Discord would make that follow-up the reply.
        await progress.settled();
        return holder && (part.number - 1) % FILES_PER_MESSAGE !== 0
          ? interaction.editReply({ message: holder, files: [file], attachments: [...holder.attachments.values()] })
          : interaction.followUp({ content: partsLabel(plan, part.number), files: [file] });
      });
    }
    await progress.settled();
    await interaction.editReply({ content: summary(plan) });
    log.info({ images: plan.imageCount, parts: plan.parts.length, bytes: plan.bytes }, 'export done');
  },

  autocomplete: autocompleteCampaignsWithPictures,
};

/** Content of a message of zips: `Parts 11-20 of 25`, or nothing when there is one zip. */
function partsLabel(plan: ExportPlan, first: number): string {
  const n = plan.parts.length;
  if (n === 1) return '';
  const last = Math.min(first + FILES_PER_MESSAGE - 1, n);
  return first === last ? `Part ${first} of ${n}` : `Parts ${first}-${last} of ${n}`;
}

function summary(plan: ExportPlan): string {
  const pictures = `${plan.imageCount.toLocaleString('en-US')} ${plan.imageCount === 1 ? 'picture' : 'pictures'}`;
  const zips = plan.parts.length === 1 ? 'one zip' : `${plan.parts.length} zips`;
  const lines = [
    `Exported ${pictures} of **${plan.campaign.name || plan.campaign.id}** in ${zips} (${megabytes(plan.bytes)}) below. Each zip has storybook.html, the pictures in story order to open in a browser, and a manifest.json with every picture's prompt, turn, mode, model, creator and time.`,
  ];
  if (plan.converted > 0) {
    lines.push(
      `${plan.converted} ${plan.converted === 1 ? 'picture is' : 'pictures are'} larger than Discord's upload limit here, so the zip has a high-quality JPEG; the original PNG stays on the server with the bot's operator.`,
    );
  }
  return lines.join('\n');
}
