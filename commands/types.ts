import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  SlashCommandSubcommandBuilder,
  SlashCommandBuilder,
  SlashCommandSubcommandsOnlyBuilder,
} from 'discord.js';
import type { Limner } from '../src/app.ts';
import type { ChannelLink } from '../src/store/links.ts';

/** What every command handler gets besides its interaction. */
export interface BotContext {
  readonly limner: Limner;
}

/** A command handler that needs the channel's campaign receives it here. */
export interface LinkedContext extends BotContext {
  readonly link: ChannelLink;
}

/**
 * One `/scene` subcommand, discord.js guide style: the builder (`data`) and its handlers.
 * `needsLink` subcommands only run in a channel linked to a campaign; elsewhere the
 * parent command answers ephemerally how to link one.
 */
export type SubcommandModule =
  | {
      readonly data: SlashCommandSubcommandBuilder;
      readonly needsLink: true;
      execute(interaction: ChatInputCommandInteraction, ctx: LinkedContext): Promise<void>;
      autocomplete?(interaction: AutocompleteInteraction, ctx: LinkedContext): Promise<void>;
    }
  | {
      readonly data: SlashCommandSubcommandBuilder;
      readonly needsLink: false;
      execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
      autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
    };

/** A top-level application command: its builder and its handlers. */
export interface CommandModule {
  readonly data: SlashCommandBuilder | SlashCommandSubcommandsOnlyBuilder;
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
}
