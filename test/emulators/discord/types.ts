/**
 * Shapes the Discord emulator keeps and hands to tests. Wire payloads (what discord.js sees) are built
 * from these in `state.ts`; these are the test-facing records.
 */

/** A Discord user as the emulator knows it. `bot` marks bot accounts (the emulator's own user is one). */
export interface EmulatorUser {
  id: string;
  username: string;
  global_name?: string;
  bot?: boolean;
}

/** A file stored by the emulator and served at `url`. */
export interface StoredAttachment {
  id: string;
  filename: string;
  /** Size in bytes. */
  size: number;
  content_type?: string;
  /** Absolute `http://127.0.0.1:PORT/attachments/:channelId/:attachmentId/:filename` URL. */
  url: string;
  bytes: Buffer;
  /** Pixel dimensions, read from PNG/GIF headers only. */
  width?: number;
  height?: number;
  /** When set, downloading the file answers `302 Found` to this URL instead of the bytes. */
  redirectTo?: string;
}

/** A message in the emulator's state, whoever wrote it. */
export interface StoredMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: EmulatorUser;
  content: string;
  embeds: any[];
  components: any[];
  attachments: StoredAttachment[];
  /** Message flags bitfield; 64 = ephemeral. */
  flags: number;
  /** Discord message type: 0 default, 19 reply, 20 chat-input command response, 23 context-menu response. */
  type: number;
  /** `type` 1 marks a forward (absent: 0, a reply). */
  message_reference?: { type?: 0 | 1; message_id: string; channel_id: string; guild_id?: string };
  /** For a forward: the forwarded message's content as it was, Discord's `message_snapshots`. */
  message_snapshots?: Array<{ message: any }>;
  /** Set when the message is an interaction response or follow-up. */
  interaction_id?: string;
  /** Set when the message was posted through a channel webhook; `author` is then the webhook (`bot: true`). */
  webhook_id?: string;
  /** Users mentioned (also derived from `<@id>` in the content). */
  mentions: EmulatorUser[];
  /** Emoji (unicode or `name:id`) the bot reacted with. */
  reactions: string[];
  /** How many times the message was edited. */
  edits: number;
  /** ISO 8601. */
  timestamp: string;
  edited_timestamp: string | null;
  deleted?: boolean;
}

/** Everything the bot did in answer to one injected interaction. */
export interface InteractionResult {
  interactionId: string;
  token: string;
  /** Interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: number;
  /** Accepted callbacks in order; `at` is `Date.now()` (ms). A rejected second callback is not listed. */
  callbacks: Array<{ type: number; data?: any; at: number }>;
  /**
   * The @original message once it exists: created by a type-4 callback or by the first PATCH after a
   * type-5 defer; for component interactions (types 6/7) it is the message carrying the component.
   */
  original?: StoredMessage;
  followUps: StoredMessage[];
  autocompleteChoices?: Array<{ name: string; value: string | number }>;
  /** `data` of a type-9 callback (the modal shown). */
  modal?: any;
  /** Whether the response (reply or defer) carried flag 64. */
  ephemeral: boolean;
  /** Every state of @original in order: its creation by callback 4/7 and each PATCH; `at` in ms. */
  history: Array<{ content: string; embeds: any[]; attachments: string[]; at: number }>;
}

/** Returned by the interaction injectors. */
export interface InteractionHandle {
  result: InteractionResult;
  /** Resolves once the first callback arrived (default timeout 10 000 ms). */
  acknowledged(timeoutMs?: number): Promise<InteractionResult>;
  /** Resolves once `pred` holds on the result (default timeout 10 000 ms). */
  waitUntil(pred: (r: InteractionResult) => boolean, timeoutMs?: number): Promise<InteractionResult>;
}

/** A file a test hands to the emulator (user upload, command attachment option). */
export interface UploadFile {
  filename: string;
  /** The file, or only its first chunk when the emulator runs with `keepUploadBytes: false` (see `size`). */
  bytes: Buffer;
  /** Bytes received, when `bytes` holds only the first chunk. */
  size?: number;
  contentType?: string;
  /** The URL the payload gives for the file instead of the emulator's own (e.g. on another host). */
  url?: string;
  /** Downloading the file answers `302 Found` to this URL (see {@link StoredAttachment.redirectTo}). */
  redirectTo?: string;
}

/** Options of {@link DiscordEmulator.start}. */
export interface EmulatorOptions {
  /** 0 or absent: an ephemeral port. */
  port?: number;
  applicationId?: string;
  botUser?: EmulatorUser;
  /** The bot token REST and IDENTIFY must present; a wrong one gets 401 / close code 4004. */
  token?: string;
  /** HELLO heartbeat interval in ms (default 41 250, as Discord). */
  heartbeatIntervalMs?: number;
  /**
   * False: of each uploaded file keep only its first chunk (enough for its type and dimensions) and
   * its size, for load benchmarks that upload gigabytes; downloads then serve that chunk. Default true.
   */
  keepUploadBytes?: boolean;
}

/** One REST request as seen by the emulator; `route` is the matched template, e.g. `/channels/:channel/messages`. */
export interface RestCall {
  method: string;
  route: string;
  path: string;
  status: number;
  /** `Date.now()` in ms. */
  at: number;
}

/** A canned failure answered instead of the real handler, for testing 429/5xx handling. */
export interface RestFault {
  method: string;
  /** Route template as in {@link RestCall.route}. */
  route: string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests to fail (default 1). */
  times?: number;
}
