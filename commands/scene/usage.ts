import { EmbedBuilder, MessageFlags, SlashCommandSubcommandBuilder } from 'discord.js';
import { relative } from '../../src/jobs/budget.ts';
import { formatTotals, usageReport } from '../../src/usage/report.ts';
import type { SubcommandModule } from '../types.ts';

/** `/scene usage`: the caller's and the server's use today and this month, and what is left. Private. */
export const usage: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder().setName('usage').setDescription('Your and this server’s picture use today and this month'),

  async execute(interaction, { limner }) {
    // A picture still being stored counts once it is: usage rows are linked to it then.
    const report = await usageReport(limner.usage, limner.budgets, interaction.user.id, interaction.guildId);
    const { budget } = report;
    const left = (n: number | null, unit: (x: number) => string) => (n === null ? 'no limit' : `${unit(n)} left`);
    const embed = new EmbedBuilder()
      .setTitle('Picture use')
      .addFields(
        {
          name: 'You, today',
          value: `${formatTotals(report.user.today)}\n${left(budget.userImagesLeft, (n) => `${n} pictures`)}`,
          inline: true,
        },
        { name: 'You, this month', value: formatTotals(report.user.month), inline: true },
      )
      .setFooter({ text: `Daily budgets reset ${relative(budget.resetsAt - Date.now())} (00:00 UTC). Costs are estimates.` });
    if (report.guild) {
      embed.addFields(
        {
          name: 'This server, today',
          value: `${formatTotals(report.guild.today)}\n${left(budget.guildImagesLeft, (n) => `${n} pictures`)} · ${left(budget.guildUsdLeft, (n) => `$${n.toFixed(2)}`)}`,
          inline: false,
        },
        { name: 'This server, this month', value: formatTotals(report.guild.month), inline: false },
      );
    }
    await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
  },
};
