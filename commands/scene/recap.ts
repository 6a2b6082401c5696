import { AttachmentBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { storyboardName } from '../../src/scenes/recap-files.ts';
import { RECAP_DEFAULT_TURNS, RECAP_PANELS, type RecapRequest, type RecapResult } from '../../src/scenes/recap.ts';
import { answerPublicly, requesterOf } from '../bot/picture-reply.ts';
import { finishReply } from '../bot/respond.ts';
import { sceneReply, turnTitle } from '../bot/scene-message.ts';
import { recapProgressText } from '../messages.ts';
import type { LinkedContext, SubcommandModule } from '../types.ts';

/** Discord's limit on a message's text, characters. */
const CONTENT_MAX = 2000;
const number = new Intl.NumberFormat('en-US');

/**
 * `/scene recap [from:<turn>] [to:<turn>] [panels:<3-6>]`: the key moments of a range of turns
 * (default: those since the previous recap in this channel, or the last 300) painted as a
 * storyboard. The reply shows each stage, then the storyboard (one picture with the panels in
 * order and their captions) with a short text recap; each panel follows as a scene message of its
 * own, recorded like any picture so Edit, Reroll, replies, the gallery and exports work on it.
 * Refusals (range, budget for all panels) are private and come before any model call.
 */
export const recap: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('recap')
    .setDescription('Illustrate a recap of the story: its key moments as a storyboard')
    .addIntegerOption((o) =>
      o.setName('from').setDescription(`First turn (default: after the last recap, or the last ${RECAP_DEFAULT_TURNS})`).setMinValue(1),
    )
    .addIntegerOption((o) => o.setName('to').setDescription('Last turn (default: the latest)').setMinValue(1))
    .addIntegerOption((o) =>
      o
        .setName('panels')
        .setDescription(`Pictures in the storyboard (default ${RECAP_PANELS.default})`)
        .setMinValue(RECAP_PANELS.min)
        .setMaxValue(RECAP_PANELS.max),
    ),

  async execute(interaction, ctx) {
    const { limner } = ctx;
    const option = (name: string) => interaction.options.getInteger(name) ?? undefined;
    const request: RecapRequest = {
      campaignId: ctx.link.campaignId,
      requester: requesterOf(interaction),
      from: option('from'),
      to: option('to'),
      panels: option('panels'),
    };
    await answerPublicly(interaction, ctx, {
      check: () => limner.recaps.check(request),
      run: (progress) =>
        limner.recaps.run(request, {
          onProgress: (event) => {
            const text = recapProgressText(event);
            if (event.stage === 'queued') return progress.showPlace(text!);
            progress.dropPlace();
            if (text) progress.showLatest(text);
          },
        }),
      show: (result) => post(interaction, ctx, result),
    });
  },
};

/** The storyboard with the text recap in the reply, then each panel as its own recorded scene message. */
async function post(interaction: ChatInputCommandInteraction, ctx: LinkedContext, result: RecapResult): Promise<void> {
  const name = storyboardName(result);
  const captions = result.panels.map((p, i) => `${i + 1}. ${p.caption} (turn ${number.format(p.image.turn)})`);
  const heading = `**Recap of turns ${number.format(result.from)}–${number.format(result.to)}** · ${result.campaign.name}`;
  const content = [heading, result.recap, '', ...captions].join('\n');
  await finishReply(interaction, {
    content: content.length <= CONTENT_MAX ? content : `${content.slice(0, CONTENT_MAX - 1)}…`,
    embeds: [],
    files: [new AttachmentBuilder(result.storyboard.data, { name })],
    components: [],
  });
  for (const [i, panel] of result.panels.entries()) {
    const title = turnTitle(panel.image.turn, `recap ${i + 1}/${result.panels.length}`);
    const shown = await interaction.followUp(await sceneReply(panel, title, interaction.attachmentSizeLimit, ctx.limner.images));
    await ctx.limner.links.recordSceneMessage({
      messageId: shown.id,
      imageId: panel.image.id,
      guildId: interaction.guildId,
      channelId: shown.channelId,
    });
  }
}
