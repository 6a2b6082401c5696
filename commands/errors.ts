import { LimnerError } from '../src/errors.ts';

// Failures only the Discord door meets (attachments, channel links, play-by-post in a channel), so
// they are defined and worded here.

/** A user's reference (or transcript) file larger than the download limit (`limitBytes`, bytes). */
export class ReferenceTooLargeError extends LimnerError {
  readonly code = 'reference_too_large';
  constructor(
    readonly fileName: string,
    readonly limitBytes: number,
    use: 'reference' | 'transcript' = 'reference',
  ) {
    super(
      `"${fileName.slice(0, 100)}" is too large: ${use === 'reference' ? 'reference images' : 'transcripts'} can be at most ${(limitBytes / 1024 / 1024).toFixed(1)} MB.`,
    );
  }
}

/** A user's reference file could not be downloaded (an HTTP error, or longer than `timeoutMs`, ms). */
export class ReferenceDownloadError extends LimnerError {
  readonly code = 'reference_download_failed';
  constructor(
    readonly fileName: string,
    readonly timeoutMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      timeoutMs === undefined
        ? `"${fileName.slice(0, 100)}" could not be downloaded from Discord. Please try again.`
        : `"${fileName.slice(0, 100)}" took longer than ${Math.round(timeoutMs / 1000)} s to download from Discord. Please try again.`,
      options,
    );
  }
}

/** Play-by-post needs message text, which Discord only sends with the privileged Message Content intent. */
export class MessageContentRequiredError extends LimnerError {
  readonly code = 'message_content_required';
  constructor() {
    super(
      'Play-by-post needs the **Message Content** intent, so Limner can read the story messages. The bot operator can enable it: ' +
        'in the Discord developer portal, Bot → Privileged Gateway Intents → **Message Content Intent**; then set ' +
        "`discord.message_content_intent: true` in Limner's configuration and restart Limner. Until then, link a campaign folder with `/scene link campaign:<id>`.",
    );
  }
}

/** `/scene link` options that contradict each other, e.g. a campaign folder with `source:channel`; `reason` says how. */
export class LinkOptionsError extends LimnerError {
  readonly code = 'link_options_invalid';
  constructor(reason: string) {
    super(reason);
  }
}

/** A story start (`start:` of `/scene link`) that is not a message of the channel being linked. */
export class StartMessageError extends LimnerError {
  readonly code = 'start_message_invalid';
  constructor(readonly given: string) {
    super(
      `"${given.slice(0, 120)}" is not a message of this channel. For \`start\`, right-click (or long-press) the story's first message, ` +
        'choose **Copy Message Link** and paste it (a message id works too).',
    );
  }
}

/** A play-by-post command used on a campaign whose story is a transcript file. */
export class NotPlayByPostError extends LimnerError {
  readonly code = 'not_play_by_post';
  constructor(
    readonly campaignId: string,
    what: string,
  ) {
    super(`This channel's campaign \`${campaignId}\` reads its story from a transcript file, not from this channel's messages, so ${what}`);
  }
}

/** "Illustrate this message" on a message that is not a turn of the story; `reason` says why. */
export class NotAStoryMessageError extends LimnerError {
  readonly code = 'not_story_message';
  constructor(reason: string) {
    super(`That message is not part of the story: ${reason}`);
  }
}

/** Discord refused Limner a channel's message history (no View Channel or Read Message History permission). */
export class HistoryUnreadableError extends LimnerError {
  readonly code = 'history_unreadable';
  constructor(options?: { cause?: unknown }) {
    super(
      "Limner cannot read this channel's message history. Give Limner the **View Channel** and **Read Message History** permissions here, then link again.",
      options,
    );
  }
}

/**
 * A command option that is not what the command registers (a wrong type, a value out of range, a
 * required option missing): only a modified client or a direct API call sends one. `reason` names
 * the command, the option and its limit.
 */
export class OptionValueError extends LimnerError {
  readonly code = 'option_invalid';
  constructor(reason: string) {
    super(reason);
  }
}

/**
 * A button, menu or form whose custom id or values Limner did not make (a page that is not a
 * number, a picture id that is not one): only a modified client or a direct API call sends one.
 * `what` says which part is wrong and what it must be.
 */
export class ComponentIdError extends LimnerError {
  readonly code = 'component_id_invalid';
  constructor(what: string) {
    super(`That button or menu was not made by Limner (${what}), so nothing was done.`);
  }
}

/** Gallery, export or storybook in a channel with no linked campaign, and no `campaign` option given. */
export class NoCampaignChosenError extends LimnerError {
  readonly code = 'no_campaign_chosen';
  constructor() {
    super(CHOOSE_CAMPAIGN);
  }
}

/** What {@link NoCampaignChosenError} says: how to choose a campaign, or link this channel to one. */
export const CHOOSE_CAMPAIGN =
  'This channel is not linked to a campaign. Choose one with the `campaign` option (it lists the campaigns that have pictures), or link this channel with `/scene link`.';
