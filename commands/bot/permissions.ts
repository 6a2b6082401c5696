import { MessageFlags, PermissionFlagsBits, type ChatInputCommandInteraction } from 'discord.js';

/**
 * Answers privately that only members with Manage Server may `doing`, unless the member has it;
 * true when they do. Discord's `default_member_permissions` applies to the whole `/scene` command,
 * so subcommands that need more check it here.
 * @param doing - e.g. `change Limner's settings`.
 */
export async function requireManageServer(interaction: ChatInputCommandInteraction, doing: string): Promise<boolean> {
  if (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return true;
  await interaction.reply({ content: `Only members with **Manage Server** can ${doing}.`, flags: MessageFlags.Ephemeral });
  return false;
}
