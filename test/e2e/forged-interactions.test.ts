import { randomBytes, randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage, UploadFile } from '../emulators/discord/types.ts';
import { MANAGE_GUILD, startBotHarness, type BotHarness } from '../support/bot-harness.ts';

// What Discord's own client never sends, injected as a modified client, a direct API call or a
// gateway replay would: every one is answered privately (or, for a reply, by one reply line), with
// no model call and no request Discord refuses.

const EPHEMERAL = 64;
const MAX_ATTACHMENT_BYTES = 200_000;

let h: BotHarness;
/** A second server, which must never reach the first one's play-by-post campaign. */
let other: { guildId: string; channelId: string };
const rival: EmulatorUser = { id: '320000000000000001', username: 'rival', global_name: 'Rival GM' };
/** A picture of the first server's play-by-post campaign, requested by the rival (so he "owns" it). */
let secretPicture: ImageRow;
/** Ana's picture of kraghammer in #general: her edit session, and the message replies go to. */
let picture: StoredMessage;
let png: Buffer;

const answered = (r: InteractionResult) =>
  r.callbacks[0]?.type === 4 ||
  r.callbacks[0]?.type === 9 ||
  r.followUps.length > 0 ||
  Boolean(r.original?.content) ||
  Boolean(r.original?.attachments.length);
const drawn = (r: InteractionResult) => Boolean(r.original?.attachments.length);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
/** Answered by one ephemeral reply and nothing else: no public defer that flashed in the channel. */
const onlyPrivately = (r: InteractionResult) => r.callbacks.map((c) => [c.type, (c.data?.flags ?? 0) & EPHEMERAL]);
const refusedRequests = () => h.discord.restCalls.filter((c) => c.status >= 400);
/** Requests about one interaction (its callback, its @original, its follow-ups) that Discord refused, e.g. a second acknowledgement. */
const refusedFor = (interactionId: string, token: string) =>
  refusedRequests().filter((c) => c.path.includes(interactionId) || c.path.includes(token));
const modelCalls = () => h.gemini.requests.length;

/** `/scene` with options in the wire shape, as given (types, values and all). */
function raw(sub: string, options: any[], opts: { channelId?: string; attachments?: UploadFile[]; user?: EmulatorUser } = {}) {
  return h.discord.sendCommand({
    guildId: h.guildId,
    channelId: opts.channelId ?? h.channels.general,
    user: opts.user ?? h.users.ana,
    name: 'scene',
    options: [{ type: 1, name: sub, options }],
    ...(opts.attachments ? { attachments: opts.attachments } : {}),
  });
}

async function refusal(handle: Promise<{ waitUntil: (p: (r: InteractionResult) => boolean, t?: number) => Promise<InteractionResult> }>) {
  const r = await (await handle).waitUntil(answered, 15_000);
  expect(onlyPrivately(r)).toEqual([[4, EPHEMERAL]]);
  return lastText(r);
}

/** A component interaction with any custom id on `message`, from `where` (default: Ana in the first server). */
function forge(
  message: StoredMessage,
  data: { custom_id: string; component_type: number; values?: string[] },
  where?: { guildId: string; user: EmulatorUser },
) {
  return h.discord.forgeComponent({
    guildId: where?.guildId ?? h.guildId,
    channelId: message.channel_id,
    user: where?.user ?? h.users.ana,
    messageId: message.id,
    data,
  });
}

/** Waits until an interaction injected after everything before it is answered: the bot has read all earlier events. */
async function settled(): Promise<void> {
  await (await h.scene('usage', {}, { channelId: h.channels.general })).waitUntil(answered);
  await new Promise((resolve) => setTimeout(resolve, 200));
}

beforeAll(async () => {
  png = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png()
    .toBuffer();
  h = await startBotHarness({ discord: { message_content_intent: true, attachment_max_bytes: MAX_ATTACHMENT_BYTES } });
  const guild = h.discord.addGuild({ name: 'Other Table', ownerId: rival.id, channels: [{ name: 'tavern' }] });
  h.discord.addMember(guild.id, rival, { permissions: (1n << 10n) | (1n << 11n) | MANAGE_GUILD });
  other = { guildId: guild.id, channelId: guild.channels[0]!.id };
  h.discord.addMember(h.guildId, rival);
  await vi.waitFor(() => expect(h.bot.client.guilds.cache.has(other.guildId)).toBe(true));

  await (
    await h.scene('link', { source: 'channel' }, { user: h.users.gm })
  ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''), 15_000);
  await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId: h.channels.general })).waitUntil(answered);
  await (
    await h.discord.sendCommand({
      ...other,
      user: rival,
      name: 'scene',
      options: [{ type: 1, name: 'link', options: [{ type: 3, name: 'campaign', value: 'kraghammer' }] }],
    })
  ).waitUntil(answered);
  secretPicture = await h.limner.images.save(
    {
      png: await sharp(randomBytes(64 * 36 * 3), { raw: { width: 64, height: 36, channels: 3 } })
        .png()
        .toBuffer(),
      width: 64,
      height: 36,
    },
    {
      campaignId: channelCampaignId(h.channels.campaign),
      turn: 1,
      mode: 'specific',
      prompt: 'Private: the party hides the stolen crown under the floorboards.',
      provider: 'gemini',
      model: 'gemini-3.1-flash-image',
      textModel: 'gemini-3.5-flash',
      inputTokens: 10,
      outputTokens: 1120,
      costUsd: 0.04,
      requestedBy: rival.id,
    },
  );
  const r = await (await h.scene('current', { context: 3 }, { channelId: h.channels.general })).waitUntil(drawn, 15_000);
  await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id), { label: 'scene message recorded' });
  picture = r.original!;
}, 45_000);
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.gemini.reset());

describe('options the command does not register', () => {
  it('refuses a context out of range or of the wrong type, naming the option and its limit, with no model call', async () => {
    const range = '`/scene current`: `context` must be a whole number from 1 to 50.';
    expect(await refusal(raw('current', [{ type: 4, name: 'context', value: 1e12 }]))).toBe(range);
    expect(await refusal(raw('current', [{ type: 4, name: 'context', value: 0 }]))).toBe(range);
    expect(await refusal(raw('current', [{ type: 4, name: 'context', value: 2.5 }]))).toBe(
      '`/scene current`: `context` must be a whole number.',
    );
    expect(await refusal(raw('current', [{ type: 3, name: 'context', value: '10' }]))).toBe(
      '`/scene current`: `context` must be a whole number.',
    );
    expect(modelCalls()).toBe(0);
  });

  it('refuses a gallery page that is not a number, where it once built a message Discord refused', async () => {
    const message = '`/scene gallery`: `page` must be a whole number.';
    expect(await refusal(raw('gallery', [{ type: 4, name: 'page', value: 'abc' }]))).toBe(message);
    expect(await refusal(raw('gallery', [{ type: 3, name: 'page', value: 'NaN' }]))).toBe(message);
    expect(await refusal(raw('gallery', [{ type: 4, name: 'page', value: -3 }]))).toBe(
      '`/scene gallery`: `page` must be a whole number of at least 1.',
    );
    expect(await refusal(raw('gallery', [{ type: 5, name: 'mine', value: 'yes' }]))).toBe(
      '`/scene gallery`: `mine` must be true or false.',
    );
    // A page past the end is what a user may well type: it is clamped to the last page.
    const far = await (await raw('gallery', [{ type: 4, name: 'page', value: 1_000_000 }])).waitUntil(drawn, 15_000);
    expect(far.original!.content).toMatch(/page 1 of 1$/);
  });

  it('refuses missing required options, turns below 1 or not whole, unknown options and subcommands', async () => {
    expect(await refusal(raw('turn', []))).toBe('`/scene turn` needs the `number` option.');
    expect(await refusal(raw('turn', [{ type: 4, name: 'number', value: 0 }]))).toBe(
      '`/scene turn`: `number` must be a whole number of at least 1.',
    );
    expect(await refusal(raw('turn', [{ type: 4, name: 'number', value: 12.5 }]))).toBe('`/scene turn`: `number` must be a whole number.');
    expect(
      await refusal(
        raw('turn', [
          { type: 4, name: 'number', value: 3 },
          { type: 4, name: 'number', value: 4 },
        ]),
      ),
    ).toBe('`/scene turn`: `number` is given twice.');
    expect(await refusal(raw('current', [{ type: 4, name: 'radius', value: 3 }]))).toBe('`/scene current` has no option `radius`.');
    expect(await refusal(raw('paint', []))).toMatch(/^`\/scene` takes one of: `current`, `turn`, `best`, /);
    expect(await refusal(raw('edit', [{ type: 3, name: 'prompt', value: 'x'.repeat(1001) }]))).toBe(
      '`/scene edit`: `prompt` must be 1 to 1,000 characters long.',
    );
    expect(modelCalls()).toBe(0);
  });

  it('refuses a choice that is not offered and an attachment option without a file', async () => {
    expect(await refusal(raw('link', [{ type: 3, name: 'source', value: 'elsewhere' }], { user: h.users.gm }))).toBe(
      '`/scene link`: `source` must be one of: "a campaign folder", "this channel\'s messages (play-by-post)".',
    );
    expect(
      await refusal(
        raw('edit', [
          { type: 3, name: 'prompt', value: 'add a banner' },
          { type: 11, name: 'reference', value: '123456789012345678' },
        ]),
      ),
    ).toBe('`/scene edit`: `reference` must be an attached file.');
    expect(modelCalls()).toBe(0);
  });
});

describe('custom ids Limner did not make', () => {
  it('refuses a gallery page that is not a number or a malformed gallery id, leaving the message alone', async () => {
    const gallery = await (await raw('gallery', [])).waitUntil(drawn, 15_000);
    const message = gallery.original!;
    const edits = message.edits;
    const page = 'That button or menu was not made by Limner (its page must be a whole number of at least 1), so nothing was done.';
    for (const customId of ['gallery:kraghammer::NaN', 'gallery:kraghammer::0', 'gallery:kraghammer::1e3', 'gallery:kraghammer::-1']) {
      expect(await refusal(forge(message, { custom_id: customId, component_type: 2 }))).toBe(page);
    }
    expect(await refusal(forge(message, { custom_id: 'gallery:../etc::1', component_type: 2 }))).toMatch(/its campaign id is not one/);
    expect(await refusal(forge(message, { custom_id: 'gallery:kraghammer:me:1', component_type: 2 }))).toMatch(/its member id is not one/);
    expect(await refusal(forge(message, { custom_id: 'gallery:kraghammer', component_type: 2 }))).toMatch(
      /it does not name a gallery page/,
    );
    expect(await refusal(forge(message, { custom_id: 'admin:delete-all', component_type: 2 }))).toMatch(/its id is not one Limner makes/);
    expect(await refusal(forge(message, { custom_id: 'gallery-open', component_type: 3, values: ['../../etc/passwd'] }))).toMatch(
      /its choice is not one picture/,
    );
    expect(await refusal(forge(message, { custom_id: 'gallery-open', component_type: 3, values: [] }))).toMatch(
      /its choice is not one picture/,
    );
    expect(h.discord.message(message.id)!.edits).toBe(edits);
  });

  it('refuses picture ids that are not ids, or pictures of a campaign this server may not see, as gone', async () => {
    const notAnId = 'That button or menu was not made by Limner (its picture id is not one), so nothing was done.';
    for (const customId of [
      'scene-reroll:not-a-uuid',
      `scene-undo:${secretPicture.id}:extra`,
      'scene-edit:',
      `scene-reroll:${secretPicture.id.toUpperCase()}`,
      `scene-delete:${secretPicture.id}:extra`,
      'scene-prompt:not-a-uuid',
      `scene-use:not-a-uuid:1`,
    ]) {
      expect(await refusal(forge(picture, { custom_id: customId, component_type: 2 }))).toBe(notAnId);
    }
    const notAVariation = 'That button or menu was not made by Limner (its variation number is not one), so nothing was done.';
    for (const customId of [
      `scene-use:${secretPicture.id}`,
      `scene-use:${secretPicture.id}:0`,
      `scene-use:${secretPicture.id}:5`,
      `scene-use:${secretPicture.id}:1:x`,
    ]) {
      expect(await refusal(forge(picture, { custom_id: customId, component_type: 2 }))).toBe(notAVariation);
    }
    const gone = 'That picture is no longer stored. Generate a new one with /scene current, /scene turn or /scene best.';
    const inOther = { guildId: other.guildId, user: rival };
    const there = h.discord.messages(other.channelId).at(-1)!;
    // The rival requested the secret picture himself, yet from his own server it is as gone as a random id.
    for (const customId of [
      `scene-reroll:${secretPicture.id}`,
      `scene-edit:${secretPicture.id}`,
      `scene-undo:${secretPicture.id}`,
      `scene-delete:${secretPicture.id}`,
      `scene-prompt:${secretPicture.id}`,
      `scene-use:${secretPicture.id}:1`,
      `scene-reroll:${randomUUID()}`,
    ]) {
      expect(await refusal(forge(there, { custom_id: customId, component_type: 2 }, inOther))).toBe(gone);
    }
    const modal = await h.discord.submitModal({
      guildId: other.guildId,
      channelId: other.channelId,
      user: rival,
      customId: `scene-edit-modal:${secretPicture.id}`,
      fields: { prompt: 'show me the crown' },
    });
    expect(await refusal(Promise.resolve(modal))).toBe(gone);
    const promptModal = await h.discord.submitModal({
      guildId: other.guildId,
      channelId: other.channelId,
      user: rival,
      customId: `scene-prompt-modal:${secretPicture.id}`,
      fields: { prompt: 'a crown on a cushion' },
    });
    expect(await refusal(Promise.resolve(promptModal))).toBe(gone);
    expect(await refusal(forge(picture, { custom_id: `scene-reroll:${picture.id}`, component_type: 3, values: ['x'] }))).toMatch(
      /it is not a button/,
    );
    expect(modelCalls()).toBe(0);
  });
});

describe('the same interaction delivered twice', () => {
  it('is handled once, whether the replay comes while the first is running or after it finished', async () => {
    const handle = await h.scene('current', { context: 2 }, { channelId: h.channels.general });
    // At once, as a gateway resume may replay it, then again once the picture is shown.
    await h.discord.redeliver(handle.result.interactionId);
    const r = await handle.waitUntil(drawn, 15_000);
    await h.discord.redeliver(handle.result.interactionId);
    await settled();
    expect(r.callbacks).toHaveLength(1);
    // A second run would have tried to acknowledge it again, which Discord refuses (40060).
    expect(refusedFor(r.interactionId, r.token)).toEqual([]);
    expect(h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model)).toHaveLength(1);
    expect(h.discord.messages(h.channels.general).filter((m) => m.interaction_id === r.interactionId)).toHaveLength(1);
  });

  it('answers a refusal and a button press once', async () => {
    const refused = await raw('turn', []);
    await refused.waitUntil(answered);
    await h.discord.redeliver(refused.result.interactionId);
    const reroll = await h.discord.clickButton({
      guildId: h.guildId,
      channelId: picture.channel_id,
      user: h.users.bo,
      messageId: picture.id,
      customId: `scene-reroll:${await h.limner.links.imageOfMessage(picture.id)}`,
    });
    await h.discord.redeliver(reroll.result.interactionId);
    await reroll.waitUntil((r) => Boolean(r.original?.attachments.length) && r.original!.id !== picture.id, 15_000);
    await h.discord.redeliver(reroll.result.interactionId);
    await settled();
    expect(refused.result.callbacks).toHaveLength(1);
    expect(refused.result.followUps).toHaveLength(0);
    expect(reroll.result.callbacks).toHaveLength(1);
    for (const { result } of [refused, reroll]) expect(refusedFor(result.interactionId, result.token)).toEqual([]);
    expect(h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model)).toHaveLength(1);
  });
});

describe('prompts with no visible characters', () => {
  const blank = ['\u200b\u2060\ufeff', ' \u200e\u200f\u202e ', '\u3164\u2800', '\u00ad\u034f\ufe0f'];

  it.each(blank)('refuses /scene edit prompt:%j privately', async (prompt) => {
    expect(await refusal(raw('edit', [{ type: 3, name: 'prompt', value: prompt }]))).toMatch(/^The edit prompt is empty/);
    expect(modelCalls()).toBe(0);
  });

  it('refuses a blank Edit form and a blank reply with no model call', async () => {
    const imageId = (await h.limner.links.imageOfMessage(picture.id))!;
    const open = await (
      await h.discord.clickButton({
        guildId: h.guildId,
        channelId: picture.channel_id,
        user: h.users.ana,
        messageId: picture.id,
        customId: `scene-edit:${imageId}`,
      })
    ).waitUntil(answered);
    expect(open.modal).toBeDefined();
    for (const prompt of blank.slice(0, 2)) {
      const submitted = await h.discord.submitModal({
        guildId: h.guildId,
        channelId: picture.channel_id,
        user: h.users.ana,
        customId: `scene-edit-modal:${imageId}`,
        fields: { prompt },
        messageId: picture.id,
      });
      expect(await refusal(Promise.resolve(submitted))).toMatch(/^The edit prompt is empty/);
    }
    for (const content of [`<@${h.discord.botUser.id}> \u200b\u2060`, '\ufeff\u200e']) {
      const reply = await h.discord.postUserMessage({ channelId: h.channels.general, user: h.users.ana, content, replyTo: picture.id });
      const answer = await botReply(reply);
      expect(answer.content).toMatch(/^The edit prompt is empty/);
      expect(answer.edits).toBe(0);
    }
    expect(modelCalls()).toBe(0);
  });
});

/** The bot's first reply to a user message. */
function botReply(m: StoredMessage): Promise<StoredMessage> {
  return h.discord.waitFor(
    () => h.discord.messages(m.channel_id).find((x) => x.author.id === h.discord.botUser.id && x.message_reference?.message_id === m.id),
    { timeoutMs: 15_000, label: `bot reply to ${m.id}` },
  );
}

describe('reference attachments refused before anything public', () => {
  const refusedFiles: Array<[string, UploadFile, RegExp]> = [
    ['a text file', { filename: 'notes.txt', bytes: Buffer.from('a lantern, please') }, /^"notes\.txt" is not an image Limner can use/],
    [
      'an SVG',
      { filename: 'crest.svg', bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), contentType: 'image/svg+xml' },
      /^"crest\.svg" is not an image/,
    ],
    ['a file without a type or an image extension', { filename: 'banner', bytes: Buffer.from('GIF89a') }, /^"banner" is not an image/],
    [
      'a file declared larger than the limit',
      { filename: 'huge.png', bytes: Buffer.alloc(64), size: MAX_ATTACHMENT_BYTES + 1 },
      /^"huge\.png" is too large: reference images can be at most 0\.2 MB\.$/,
    ],
  ];

  it.each(refusedFiles)('a reply with %s gets one line, the refusal, and nothing is downloaded', async (_name, file, message) => {
    const before = h.discord.fileRequests.length;
    const reply = await h.discord.postUserMessage({
      channelId: h.channels.general,
      user: h.users.ana,
      content: 'add this banner',
      replyTo: picture.id,
      attachments: [{ ...file }, { filename: 'fine.png', bytes: png }],
    });
    const answer = await botReply(reply);
    expect(answer.content).toMatch(message);
    // Posted once, never edited: no "Fetching your reference…" came first.
    expect(answer.edits).toBe(0);
    expect(h.discord.fileRequests.slice(before)).toEqual([]);
    expect(modelCalls()).toBe(0);
  });

  it.each(refusedFiles)('/scene edit reference: with %s is refused privately before any defer', async (_name, file, message) => {
    const before = h.discord.fileRequests.length;
    const text = await refusal(
      raw(
        'edit',
        [
          { type: 3, name: 'prompt', value: 'add this banner' },
          { type: 11, name: 'reference', value: 0 },
        ],
        { attachments: [file] },
      ),
    );
    expect(text).toMatch(message);
    expect(h.discord.fileRequests.slice(before)).toEqual([]);
    expect(modelCalls()).toBe(0);
  });

  it('made no request that Discord refused', () => {
    expect(refusedRequests()).toEqual([]);
    expect(h.discord.unhandled).toEqual([]);
  });
});
