import { sqliteOf } from '../support/fixtures.ts';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UNREADABLE_REPLY } from '../../commands/edit/reply.ts';
import { userReferencePng } from '../../src/images/reference.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { usage } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage, UploadFile } from '../emulators/discord/types.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const EPHEMERAL = 64;
/** Small limits so the error tests need small files (see the harness overrides below). */
const MAX_ATTACHMENT_BYTES = 200_000;
const MAX_PIXELS = 2_000_000;

const finished = (r: InteractionResult) =>
  Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4 || r.callbacks[0]?.type === 9;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);

function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/** Loopback harness helpers shared by both harnesses (without and with Message Content). */
function helpers(get: () => BotHarness) {
  const h = () => get();
  const imageCalls = () => h().gemini.requests.filter((q) => q.model === h().limner.config.generation.image_model);
  const textCalls = () => h().gemini.requests.filter((q) => q.model === h().limner.config.generation.text_model);
  /** The picture a bot message shows, once the bot has recorded it (just after posting). */
  const pictureOf = async (message: StoredMessage): Promise<ImageRow> => {
    const id = await h().discord.waitFor(() => h().limner.links.imageOfMessage(message.id), { label: `picture of ${message.id}` });
    return (await h().limner.images.get(id))!;
  };
  const session = (user: EmulatorUser, campaignId = 'kraghammer') => h().limner.sessions.get(user.id, campaignId);
  const fileBytes = (image: ImageRow) => readFile(h().limner.images.location(image.imagePath));

  async function generate(user: EmulatorUser, sub = 'current', options: Record<string, string | number> = { context: 3 }) {
    const r = await (await h().scene(sub, options, { user })).waitUntil(finished, 15_000);
    if (!r.original?.attachments.length) throw new Error(`generation failed: ${lastText(r)}`);
    return { message: r.original, image: await pictureOf(r.original) };
  }

  async function sceneEdit(user: EmulatorUser, prompt: string, opts: { reference?: UploadFile; channelId?: string } = {}) {
    return h().discord.sendCommand({
      guildId: h().guildId,
      channelId: opts.channelId ?? h().channels.campaign,
      user,
      name: 'scene',
      options: [
        {
          type: 1,
          name: 'edit',
          options: [{ type: 3, name: 'prompt', value: prompt }, ...(opts.reference ? [{ type: 11, name: 'reference', value: 0 }] : [])],
        },
      ],
      attachments: opts.reference ? [opts.reference] : [],
    });
  }

  async function edited(user: EmulatorUser, prompt: string, opts: { reference?: UploadFile } = {}) {
    const r = await (await sceneEdit(user, prompt, opts)).waitUntil(finished, 15_000);
    if (!r.original?.attachments.length) throw new Error(`edit failed: ${lastText(r)}`);
    return { r, message: r.original, image: await pictureOf(r.original) };
  }

  async function click(user: EmulatorUser, message: StoredMessage, customId: string) {
    return h().discord.clickButton({ guildId: h().guildId, channelId: message.channel_id, user, messageId: message.id, customId });
  }

  /** The bot's reply to a user message once it carries a picture or its final text. */
  function botReplyTo(userMessage: StoredMessage, done: (m: StoredMessage) => boolean = (m) => m.attachments.length > 0) {
    return h().discord.waitFor(
      () =>
        h()
          .discord.messages(userMessage.channel_id)
          .find((m) => m.author.id === h().discord.botUser.id && m.message_reference?.message_id === userMessage.id && done(m)),
      { timeoutMs: 15_000, label: `bot reply to ${userMessage.id}` },
    );
  }

  return { imageCalls, textCalls, pictureOf, session, fileBytes, generate, sceneEdit, edited, click, botReplyTo };
}

const parts = (q: RecordedRequest): Array<{ text?: string; inlineData?: { mimeType: string; data: string } }> => q.body.contents[0].parts;

describe('editing without the Message Content intent', () => {
  let h: BotHarness;
  let portrait: Buffer;
  const t = helpers(() => h);

  beforeAll(async () => {
    h = await startBotHarness({ discord: { attachment_max_bytes: MAX_ATTACHMENT_BYTES }, generation: { max_input_pixels: MAX_PIXELS } });
    // One character gets a portrait, so every image request carries a campaign reference.
    const dir = path.join(h.limner.config.campaigns_dir, 'kraghammer');
    portrait = await solidPng(96, 96, [120, 120, 130]);
    await writeFile(path.join(dir, 'grog.png'), portrait);
    const yaml = parseYaml(await readFile(path.join(dir, 'campaign.yaml'), 'utf8'));
    yaml.characters[0].reference_image = 'grog.png';
    await writeFile(path.join(dir, 'campaign.yaml'), stringifyYaml(yaml));
    await h.limner.campaigns.create('tavern', { name: 'Tavern Tales' }, [
      { turn: 1, speaker: 'GM', text: 'You push open the door of a smoky tavern.' },
      { turn: 2, speaker: 'ANA', text: 'I order the house ale.' },
    ]);
    for (const [channelId, campaign] of [
      [h.channels.campaign, 'kraghammer'],
      [h.channels.general, 'tavern'],
    ] as const) {
      await (await h.scene('link', { campaign }, { user: h.users.gm, channelId })).waitUntil((r) => Boolean(r.original));
    }
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.gemini.reset());

  it('generates, then edits twice: each edit changes the previous picture, with its bytes and the references', async () => {
    const { ana } = h.users;
    const first = await t.generate(ana);
    expect(await t.session(ana)).toMatchObject({ currentImageId: first.image.id });
    expect(
      first.message.components[0].components.map((b: { label: string; disabled?: boolean }) => [b.label, Boolean(b.disabled)]),
    ).toEqual([
      ['Edit', false],
      ['Reroll', false],
      ['Undo', true],
      ['Edit prompt', false],
      ['Delete', false],
    ]);

    h.gemini.reset();
    const one = await t.edited(ana, 'make it night');
    expect(one.image).toMatchObject({
      parentImageId: first.image.id,
      mode: 'edit',
      prompt: 'make it night',
      textModel: null,
      turn: first.image.turn,
      requestedBy: ana.id,
    });
    expect(await t.session(ana)).toMatchObject({ currentImageId: one.image.id });
    expect(t.textCalls()).toHaveLength(0);
    const [call] = t.imageCalls();
    const sent = parts(call!);
    expect(sent[0]!.text).toContain('make it night');
    expect(sent[1]!.inlineData).toEqual({ mimeType: 'image/png', data: (await t.fileBytes(first.image)).toString('base64') });
    expect(sent[2]!.inlineData!.data).toBe((await userReferencePng({ name: 'grog.png', bytes: portrait }, MAX_PIXELS)).toString('base64'));
    expect(sent).toHaveLength(3);
    expect(one.message.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_2160_edit.png');
    expect(one.message.embeds[0].title).toBe('Turn 2,160 · edit');
    expect(one.message.embeds[0].description).toBe('make it night');
    expect(one.message.components[0].components.map((b: { disabled?: boolean }) => Boolean(b.disabled))).toEqual([
      false,
      false,
      false,
      true,
      false,
    ]);

    h.gemini.reset();
    const lantern = await solidPng(64, 48, [250, 200, 40]);
    const two = await t.edited(ana, 'add a lantern like this one', { reference: { filename: 'lantern.png', bytes: lantern } });
    expect(two.r.history.map((s) => s.content)).toEqual(expect.arrayContaining(['Fetching your reference…', 'Painting…']));
    expect(two.image.parentImageId).toBe(one.image.id);
    expect((await t.session(ana))?.currentImageId).toBe(two.image.id);
    const sentTwo = parts(t.imageCalls()[0]!);
    expect(sentTwo[1]!.inlineData!.data).toBe((await t.fileBytes(one.image)).toString('base64'));
    expect(sentTwo.slice(2).map((p) => p.inlineData!.data)).toEqual([
      (await userReferencePng({ name: 'grog.png', bytes: portrait }, MAX_PIXELS)).toString('base64'),
      (await userReferencePng({ name: 'lantern.png', bytes: lantern }, MAX_PIXELS)).toString('base64'),
    ]);
    const ledger = h.limner.store.db
      .select()
      .from(usage)
      .all()
      .filter((u) => u.imageId === two.image.id);
    expect(ledger).toMatchObject([
      { purpose: 'edit', userId: ana.id, campaignId: 'kraghammer', channelId: h.channels.campaign, images: 1 },
    ]);
  });

  it('replaces the session when the user generates again', async () => {
    const { ana } = h.users;
    await t.edited(ana, 'more fog');
    const fresh = await t.generate(ana, 'turn', { number: 1500 });
    expect((await t.session(ana))?.currentImageId).toBe(fresh.image.id);
    const next = await t.edited(ana, 'zoom out');
    expect(next.image).toMatchObject({ parentImageId: fresh.image.id, turn: 1500 });
  });

  it("applies two edits sent at once one after the other, the second to the first one's result", async () => {
    const { ana } = h.users;
    const base = await t.generate(ana);
    h.gemini.reset();
    h.gemini.setLatency(120);
    try {
      const [a, b] = [await t.sceneEdit(ana, 'first change'), await t.sceneEdit(ana, 'second change')];
      const [ra, rb] = await Promise.all([a.waitUntil(finished, 15_000), b.waitUntil(finished, 15_000)]);
      const results = await Promise.all([ra, rb].map((r) => t.pictureOf(r.original!)));
      const [earlier, later] = results[0]!.parentImageId === base.image.id ? [results[0]!, results[1]!] : [results[1]!, results[0]!];
      expect(earlier.parentImageId).toBe(base.image.id);
      expect(later.parentImageId).toBe(earlier.id);
      expect((await t.session(ana))?.currentImageId).toBe(later.id);
      const waited = results[0]!.id === later.id ? ra : rb;
      // One job per user runs at a time, so the second edit waits in the queue (or for the session) and says so.
      expect(waited.history.map((s) => s.content).some((c) => /^Waiting for (a free painter|your previous edit)/.test(c))).toBe(true);
      const sources = t.imageCalls().map((q) => parts(q)[1]!.inlineData!.data);
      const expected = [(await t.fileBytes(base.image)).toString('base64'), (await t.fileBytes(earlier)).toString('base64')];
      expect(sources.map((data, i) => data === expected[i])).toEqual([true, true]);
    } finally {
      h.gemini.setLatency(0);
    }
  });

  describe('reply-to-edit', () => {
    it('edits the picture replied to when the reply mentions the bot; attached images are extra references', async () => {
      const { ana, bo } = h.users;
      const shown = await t.generate(ana);
      h.gemini.reset();
      const sketch = await solidPng(80, 60, [10, 90, 200]);
      const reply = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: bo,
        content: 'put a blue banner on the wall',
        replyTo: shown.message.id,
        attachments: [{ filename: 'banner.png', bytes: sketch }],
      });
      const answer = await t.botReplyTo(reply);
      const made = await t.pictureOf(answer);
      expect(made).toMatchObject({
        parentImageId: shown.image.id,
        mode: 'edit',
        prompt: 'put a blue banner on the wall',
        requestedBy: bo.id,
      });
      // The replier's session moves; the picture's owner keeps theirs.
      expect((await t.session(bo))?.currentImageId).toBe(made.id);
      expect((await t.session(ana))?.currentImageId).toBe(shown.image.id);
      expect(answer.embeds[0].title).toBe('Turn 2,160 · edit');
      expect(answer.components[0].components).toHaveLength(5);
      const sent = parts(t.imageCalls()[0]!);
      expect(sent[1]!.inlineData!.data).toBe((await t.fileBytes(shown.image)).toString('base64'));
      expect(sent.at(-1)!.inlineData!.data).toBe(
        (await userReferencePng({ name: 'banner.png', bytes: sketch }, MAX_PIXELS)).toString('base64'),
      );
      expect(sent).toHaveLength(4);

      // A reply to the reply's picture continues the lineage.
      const again = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: bo,
        content: `<@${h.discord.botUser.id}> now at dusk`,
        replyTo: answer.id,
      });
      const second = await t.pictureOf(await t.botReplyTo(again));
      expect(second).toMatchObject({ parentImageId: made.id, prompt: 'now at dusk' });
    });

    it('says it cannot read a reply that does not mention it, and ignores replies to other messages and plain messages', async () => {
      const { ana } = h.users;
      const shown = await t.generate(ana);
      h.gemini.reset();
      const silent = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: 'make it snow',
        replyTo: shown.message.id,
        mentionsBot: false,
      });
      const hint = await t.botReplyTo(silent, () => true);
      expect(hint.content).toBe(UNREADABLE_REPLY);

      const linkMessage = h.discord.messages(h.channels.campaign).find((m) => m.content.startsWith('This channel now illustrates'))!;
      const other = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: 'cool',
        replyTo: linkMessage.id,
      });
      const plain = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: `<@${h.discord.botUser.id}> hello`,
      });
      // A later reply that is handled proves the earlier ones were seen and passed over.
      const handled = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: 'add rain',
        replyTo: shown.message.id,
      });
      await t.botReplyTo(handled);
      const answered = h.discord
        .messages(h.channels.campaign)
        .filter((m) => [other.id, plain.id].includes(m.message_reference?.message_id ?? ''));
      expect(answered).toEqual([]);
      expect(t.imageCalls()).toHaveLength(1);
    });

    it('answers an empty reply and a failing edit in the reply thread', async () => {
      const { ana } = h.users;
      const shown = await t.generate(ana);
      const empty = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: `<@${h.discord.botUser.id}>`,
        replyTo: shown.message.id,
      });
      expect((await t.botReplyTo(empty, () => true)).content).toMatch(/^The edit prompt is empty/);

      for (let i = 0; i < 3; i++) h.gemini.enqueue({ kind: 'status', status: 500 }, { model: /image/ });
      const failing = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: 'add a dragon',
        replyTo: shown.message.id,
      });
      const answer = await t.botReplyTo(failing, (m) => m.content.startsWith('Gemini answered with an error'));
      expect(answer.content).toMatch(/^Gemini answered with an error \(HTTP 500\)\. Please try again\. \(error id `[0-9a-f]{8}`\)$/);
      expect((await t.session(ana))?.currentImageId).toBe(shown.image.id);

      // 14 images per request: the picture and at most 13 of the user's (portraits fill what is left).
      const dot = await solidPng(8, 8, [0, 0, 0]);
      const crowded = await h.discord.postUserMessage({
        channelId: h.channels.campaign,
        user: ana,
        content: 'use all of these',
        replyTo: shown.message.id,
        attachments: Array.from({ length: 14 }, (_, i) => ({ filename: `ref${i}.png`, bytes: dot })),
      });
      const refused = await t.botReplyTo(crowded, (m) => m.content.startsWith('Too many'));
      expect(refused.content).toBe('Too many reference images (14): an edit can take at most 13.');
    });
  });

  describe('buttons', () => {
    it('Edit opens a modal for the owner and edits that picture with the submitted prompt', async () => {
      const { ana } = h.users;
      const shown = await t.generate(ana);
      const opened = await (await t.click(ana, shown.message, `scene-edit:${shown.image.id}`)).acknowledged();
      expect(opened.callbacks[0]!.type).toBe(9);
      expect(opened.modal.custom_id).toBe(`scene-edit-modal:${shown.image.id}`);
      h.gemini.reset();
      const submitted = await (
        await h.discord.submitModal({
          guildId: h.guildId,
          channelId: h.channels.campaign,
          user: ana,
          customId: `scene-edit-modal:${shown.image.id}`,
          fields: { prompt: 'light the torches' },
          messageId: shown.message.id,
        })
      ).waitUntil(finished, 15_000);
      const made = await t.pictureOf(submitted.original!);
      expect(made).toMatchObject({ parentImageId: shown.image.id, prompt: 'light the torches', mode: 'edit' });
      expect((await t.session(ana))?.currentImageId).toBe(made.id);
      expect(parts(t.imageCalls()[0]!)[1]!.inlineData!.data).toBe((await t.fileBytes(shown.image)).toString('base64'));
    });

    it("refuses Edit and Undo on another user's picture, ephemerally, and lets them Reroll it", async () => {
      const { ana, bo } = h.users;
      await t.generate(ana);
      const edit = await t.edited(ana, 'add snow');
      const before = (await h.limner.images.list('kraghammer' as never)).length;
      for (const id of [`scene-edit:${edit.image.id}`, `scene-undo:${edit.image.id}`]) {
        const r = await (await t.click(bo, edit.message, id)).acknowledged();
        expect(privately(r)).toBe(true);
        expect(lastText(r)).toMatch(/^This picture belongs to another player's edit session.*reply to the picture with your edit/);
        expect(r.modal).toBeUndefined();
      }
      expect((await t.session(ana))?.currentImageId).toBe(edit.image.id);

      const rerolled = await (await t.click(bo, edit.message, `scene-reroll:${edit.image.id}`)).waitUntil(finished, 15_000);
      const made = await t.pictureOf(rerolled.original!);
      expect(made).toMatchObject({ parentImageId: edit.image.parentImageId, prompt: 'add snow', mode: 'edit', requestedBy: bo.id });
      expect((await t.session(bo))?.currentImageId).toBe(made.id);
      expect(await h.limner.images.list('kraghammer' as never)).toHaveLength(before + 1);
    });

    it('Reroll draws a generated scene again from the same prompt without a new text-model call', async () => {
      const { ana } = h.users;
      const shown = await t.generate(ana, 'turn', { number: 900 });
      h.gemini.reset();
      const r = await (await t.click(ana, shown.message, `scene-reroll:${shown.image.id}`)).waitUntil(finished, 15_000);
      const made = await t.pictureOf(r.original!);
      expect(made).toMatchObject({
        prompt: shown.image.prompt,
        turn: 900,
        mode: 'specific',
        parentImageId: null,
        textModel: shown.image.textModel,
      });
      expect(made.id).not.toBe(shown.image.id);
      expect(r.original!.embeds[0].title).toBe('Turn 900 · rerolled');
      expect(t.textCalls()).toHaveLength(0);
      expect(parts(t.imageCalls()[0]!)[0]!.text).toBe(shown.image.prompt);
      expect((await t.session(ana))?.currentImageId).toBe(made.id);
    });

    it('Reroll of an edit sends the same parent, instruction and reference again', async () => {
      const { ana } = h.users;
      const base = await t.generate(ana);
      const shield = await solidPng(40, 40, [200, 30, 30]);
      const edit = await t.edited(ana, 'give the goliath this shield', { reference: { filename: 'shield.png', bytes: shield } });
      h.gemini.reset();
      const r = await (await t.click(ana, edit.message, `scene-reroll:${edit.image.id}`)).waitUntil(finished, 15_000);
      const made = await t.pictureOf(r.original!);
      expect(made).toMatchObject({ parentImageId: base.image.id, prompt: 'give the goliath this shield', mode: 'edit' });
      const sent = parts(t.imageCalls()[0]!);
      expect(sent[1]!.inlineData!.data).toBe((await t.fileBytes(base.image)).toString('base64'));
      expect(sent.at(-1)!.inlineData!.data).toBe(
        (await userReferencePng({ name: 'shield.png', bytes: shield }, MAX_PIXELS)).toString('base64'),
      );
    });

    it('Undo walks the session back to the first picture and shows each one again', async () => {
      const { ana } = h.users;
      const first = await t.generate(ana);
      await t.edited(ana, 'add clouds');
      const last = await t.edited(ana, 'add birds');
      const middle = (await h.limner.images.get(last.image.parentImageId!))!;

      const back = await (await t.click(ana, last.message, `scene-undo:${last.image.id}`)).waitUntil(finished, 15_000);
      expect((await t.pictureOf(back.original!)).id).toBe(middle.id);
      expect(back.original!.embeds[0].title).toBe('Turn 2,160 · back to this picture');
      expect((await t.session(ana))?.currentImageId).toBe(middle.id);

      const home = await (await t.click(ana, back.original!, `scene-undo:${middle.id}`)).waitUntil(finished, 15_000);
      expect((await t.pictureOf(home.original!)).id).toBe(first.image.id);
      expect((await t.session(ana))?.currentImageId).toBe(first.image.id);
      expect(home.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_2160_current.png');
      await expect(t.click(ana, home.original!, `scene-undo:${first.image.id}`)).rejects.toThrow(/disabled/);

      // The next edit starts from the first picture again.
      const redo = await t.edited(ana, 'add a rainbow');
      expect(redo.image.parentImageId).toBe(first.image.id);
    });
  });

  describe('refusals', () => {
    const cy: EmulatorUser = { id: '310000000000000009', username: 'cy', global_name: 'Cy' };

    it('tells a user without a session to generate first', async () => {
      const r = await (await t.sceneEdit(cy, 'make it night')).acknowledged();
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toBe('No active image session. Generate one first with /scene current, /scene turn or /scene best.');
      expect(h.gemini.requests).toHaveLength(0);
    });

    it('refuses an empty prompt', async () => {
      await t.generate(h.users.ana);
      h.gemini.reset();
      const r = await (await t.sceneEdit(h.users.ana, '   ')).acknowledged();
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toMatch(/^The edit prompt is empty/);
      expect(h.gemini.requests).toHaveLength(0);
    });

    it('names the campaign of a session from another campaign and how to start one here', async () => {
      const { bo } = h.users;
      sqliteOf(h.limner.store).prepare('DELETE FROM edit_sessions WHERE user_id = ?').run(bo.id);
      await t.generate(bo);
      const r = await (await t.sceneEdit(bo, 'make it night', { channelId: h.channels.general })).acknowledged();
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toBe(
        "Your active image session is in **Arrival at Kraghammer** (`kraghammer`), not in this channel's campaign **Tavern Tales** (`tavern`). " +
          "Start one here with /scene current, /scene turn or /scene best, or reply to one of this campaign's pictures with your change; " +
          'to keep editing the other picture, use a channel linked to `kraghammer`.',
      );
    });

    it.each([
      [
        'a file that is not an image',
        { filename: 'notes.txt', bytes: Buffer.from('a lantern, please') },
        /^"notes\.txt" is not an image Limner can use as a reference/,
      ],
      [
        'bytes that do not decode',
        { filename: 'broken.png', bytes: Buffer.from('not really a png') },
        /^"broken\.png" is not an image Limner can use as a reference/,
      ],
      [
        'a file over the byte limit',
        { filename: 'huge.png', bytes: Buffer.alloc(MAX_ATTACHMENT_BYTES + 1) },
        /^"huge\.png" is too large: reference images can be at most 0\.2 MB\.$/,
      ],
    ])('refuses %s as a reference', async (_name, file, message) => {
      await t.generate(h.users.ana);
      h.gemini.reset();
      const r = await (await t.sceneEdit(h.users.ana, 'add this', { reference: file })).waitUntil(finished, 15_000);
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toMatch(message);
      expect(t.imageCalls()).toHaveLength(0);
    });

    it('refuses a reference with too many pixels', async () => {
      const { ana } = h.users;
      await t.generate(ana);
      h.gemini.reset();
      const wide = await solidPng(2000, 1100, [0, 0, 0]);
      expect(wide.byteLength).toBeLessThan(MAX_ATTACHMENT_BYTES);
      const r = await (
        await t.sceneEdit(ana, 'add this', { reference: { filename: 'wide.png', bytes: wide } })
      ).waitUntil(finished, 15_000);
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toBe('"wide.png" has too many pixels: reference images can have at most 2,000,000 (width × height).');
      expect(t.imageCalls()).toHaveLength(0);
    });

    it('answers a provider failure with an error id and leaves the session where it was', async () => {
      const { ana } = h.users;
      const shown = await t.generate(ana);
      for (let i = 0; i < 3; i++) h.gemini.enqueue({ kind: 'status', status: 500 }, { model: /image/ });
      const r = await (await t.sceneEdit(ana, 'add a dragon')).waitUntil(finished, 15_000);
      expect(privately(r)).toBe(true);
      expect(lastText(r)).toMatch(/^Gemini answered with an error \(HTTP 500\)\. Please try again\. \(error id `[0-9a-f]{8}`\)$/);
      expect(r.original?.deleted).toBe(true);
      expect((await t.session(ana))?.currentImageId).toBe(shown.image.id);
    });

    it('left no unhandled Discord routes', () => {
      expect(h.discord.unhandled).toEqual([]);
    });
  });
});

describe('reply-to-edit with the Message Content intent', () => {
  let h: BotHarness;
  const t = helpers(() => h);

  beforeAll(async () => {
    h = await startBotHarness({ discord: { message_content_intent: true } });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  it('edits on any reply to a scene picture, even one that does not mention the bot', async () => {
    const { ana } = h.users;
    const shown = await t.generate(ana);
    const reply = await h.discord.postUserMessage({
      channelId: h.channels.campaign,
      user: ana,
      content: 'make the sky green',
      replyTo: shown.message.id,
      mentionsBot: false,
    });
    const answer = await t.botReplyTo(reply);
    const made = await t.pictureOf(answer);
    expect(made).toMatchObject({ parentImageId: shown.image.id, prompt: 'make the sky green' });
    expect((await t.session(ana))?.currentImageId).toBe(made.id);
  });
});
