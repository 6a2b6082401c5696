import type {
  ButtonInteraction,
  Client,
  ContextMenuCommandBuilder,
  Message,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
  StringSelectMenuInteraction,
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  SlashCommandSubcommandBuilder,
  SlashCommandBuilder,
  SlashCommandSubcommandsOnlyBuilder,
} from 'discord.js';
import type { Limner } from '../src/app.ts';
import type { ChannelLink } from '../src/campaigns/links.ts';

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

/** A message context-menu command (right-click a message → Apps): its builder and its handler. */
export interface MessageCommandModule {
  readonly data: ContextMenuCommandBuilder;
  execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void>;
}

/** An interaction from a component (button, select menu) or a submitted modal. */
export type ComponentInteraction = ButtonInteraction | StringSelectMenuInteraction | ModalSubmitInteraction;

/**
 * Handles the components whose `custom_id` starts with `<prefix>:`; the rest of the id, split on
 * `:`, arrives as `args` (e.g. `scene-undo:<imageId>` gives `['<imageId>']`). Custom ids are at
 * most 100 characters (Discord's limit).
 */
export interface ComponentModule {
  readonly prefix: string;
  handle(interaction: ComponentInteraction, ctx: BotContext, args: readonly string[]): Promise<void>;
}

/** Reacts to messages in channels the bot can see (e.g. a reply to a scene picture). */
export interface MessageHandler {
  /** Also offered messages of bots and webhooks (proxied characters, narrator bots); default false. */
  readonly bots?: boolean;
  /** Returns true when it handled the message. Must not throw for a message that is not its business. */
  handle(message: Message, ctx: BotContext): Promise<boolean>;
}

/**
 * Listens to client events beyond interactions and new messages (edits, deletions, ready).
 * `listen` is called once per client, before it logs in; its handlers must never reject.
 */
export interface ClientListener {
  listen(client: Client, ctx: BotContext): void;
}
