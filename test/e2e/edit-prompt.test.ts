import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { images, type ImageRow } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const EPHEMERAL = 64;
const finished = (r: InteractionResult) =>
  Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4 || r.callbacks[0]?.type === 9;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);
const buttons = (m: StoredMessage): Array<{ label: string; custom_id: string; disabled?: boolean }> =>
  m.components.flatMap((row) => row.components);

describe('Edit prompt: repaint from a changed prompt', () => {
  let h: BotHarness;
  const imageCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model);
  const textCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.text_model);
  const click = (user: EmulatorUser, message: StoredMessage, customId: string) =>
    h.discord.clickButton({ guildId: h.guildId, channelId: message.channel_id, user, messageId: message.id, customId });
  const submit = (user: EmulatorUser, message: StoredMessage, imageId: string, prompt: string) =>
    h.discord.submitModal({
      guildId: h.guildId,
      channelId: message.channel_id,
      user,
      customId: `scene-prompt-modal:${imageId}`,
      fields: { prompt },
      messageId: message.id,
    });

  async function generate(user: EmulatorUser): Promise<{ message: StoredMessage; image: ImageRow }> {
    const r = await (await h.scene('turn', { number: 1500 }, { user })).waitUntil(finished, 15_000);
    if (!r.original?.attachments.length) throw new Error(`generation failed: ${lastText(r)}`);
    const id = await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id));
    return { message: r.original, image: (await h.limner.images.get(id))! };
  }

  beforeAll(async () => {
    h = await startBotHarness();
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.gemini.reset());

  it("opens a modal pre-filled with the picture's prompt for its owner, and refuses anyone else privately", async () => {
    const { message, image } = await generate(h.users.ana);
    expect(buttons(message).find((b) => b.label === 'Edit prompt')).toMatchObject({ custom_id: `scene-prompt:${image.id}` });

    const opened = await (await click(h.users.ana, message, `scene-prompt:${image.id}`)).acknowledged();
    expect(opened.callbacks[0]!.type).toBe(9);
    const input = opened.modal.components[0].component;
    expect(input).toMatchObject({ custom_id: 'prompt', value: image.prompt, max_length: 1900, required: true });

    const refused = await (await click(h.users.bo, message, `scene-prompt:${image.id}`)).acknowledged();
    expect(refused.callbacks[0]!.type).toBe(4);
    expect(privately(refused)).toBe(true);
    expect(lastText(refused)).toMatch(/only they can use Edit, Edit prompt and Undo/);
  });

  it('repaints from the submitted prompt with the image model only: same turn and mode, the original as parent', async () => {
    const { message, image } = await generate(h.users.ana);
    h.gemini.reset();
    const changed = 'A dwarf city carved into a mountain at night, lanterns glowing, digital fantasy painting';
    const r = await (await submit(h.users.ana, message, image.id, changed)).waitUntil(finished, 15_000);
    expect(r.ephemeral).toBe(false);
    expect(r.original?.embeds[0].title).toBe('Turn 1,500 · repainted');
    expect(textCalls()).toHaveLength(0);
    expect(imageCalls()).toHaveLength(1);
    expect(imageCalls()[0]!.body.contents[0].parts[0].text).toBe(changed);
    const id = await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id));
    const repainted = (await h.limner.images.get(id))!;
    expect(repainted).toMatchObject({ turn: 1500, mode: 'specific', prompt: changed, parentImageId: image.id, textModel: null });
    expect((await h.limner.sessions.get(h.users.ana.id, 'kraghammer'))?.currentImageId).toBe(repainted.id);
    // Undo goes back to the original.
    expect(buttons(r.original!).find((b) => b.label === 'Undo')?.disabled).toBeFalsy();
  });

  it("refuses a submitted prompt on someone else's picture, and a blank one, before any model call", async () => {
    const { message, image } = await generate(h.users.ana);
    h.gemini.reset();
    const foreign = await (await submit(h.users.bo, message, image.id, 'a castle')).waitUntil(finished);
    expect(privately(foreign)).toBe(true);
    expect(lastText(foreign)).toMatch(/another player's edit session/);
    const blank = await (await submit(h.users.ana, message, image.id, '   ')).waitUntil(finished);
    expect(privately(blank)).toBe(true);
    expect(lastText(blank)).toMatch(/The prompt is empty/);
    expect(h.gemini.requests).toHaveLength(0);
  });

  it('is greyed out on an edit, which has an instruction rather than a scene prompt', async () => {
    await generate(h.users.bo);
    const r = await (
      await h.discord.sendCommand({
        guildId: h.guildId,
        channelId: h.channels.campaign,
        user: h.users.bo,
        name: 'scene',
        options: [{ type: 1, name: 'edit', options: [{ type: 3, name: 'prompt', value: 'make it night' }] }],
      })
    ).waitUntil(finished, 15_000);
    expect(buttons(r.original!).find((b) => b.label === 'Edit prompt')?.disabled).toBe(true);
  });
});

describe('Edit prompt with prompts longer than a Discord text box', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ generation: { max_prompt_chars: 6000 } });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  it("caps the box at Discord's 4,000 characters and says the prompt was shortened", async () => {
    const r = await (await h.scene('turn', { number: 12 }, { user: h.users.ana })).waitUntil(finished, 15_000);
    const id = await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id));
    h.limner.store.db
      .update(images)
      .set({ prompt: 'x'.repeat(4500) })
      .where(eq(images.id, id))
      .run();
    const opened = await (
      await h.discord.clickButton({
        guildId: h.guildId,
        channelId: h.channels.campaign,
        user: h.users.ana,
        messageId: r.original!.id,
        customId: `scene-prompt:${id}`,
      })
    ).acknowledged();
    expect(opened.callbacks[0]!.type).toBe(9);
    const label = opened.modal.components[0];
    expect(label.description).toMatch(/Shortened to the 4,000 characters/);
    expect(label.component.max_length).toBe(4000);
    expect(label.component.value).toHaveLength(4000);
  });
});
