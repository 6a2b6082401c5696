/**
 * `npm run demo`: plays a short scripted session against the real bot on loopback emulators (no
 * network, no credentials) and shows it the way a person reading `#campaign` would see it.
 *
 * Writes to `demo-output/` (cleared first): each posted picture with its step number as prefix,
 * `transcript.txt` (exactly what is printed) and `messages.json` (the emulator's stored messages).
 * Exits 1, saying which step fell short, when a step did not produce what it should.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { InteractionResult, StoredAttachment, StoredMessage } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness, type SceneOptionValue } from '../support/bot-harness.ts';
import { ROOT, SAMPLE_CAMPAIGN } from '../support/fixtures.ts';
import { scannerScript } from '../support/scanner-script.ts';
import { autocompleteLines, channelHeader, commandLine, interactionLines, type SavedFile } from './render.ts';

/** Relative to the repository root, which is also where `npm run demo` runs. */
const OUTPUT_DIR = 'demo-output';
/** The whole run, start-up and shutdown included; well above a normal run (a few seconds). */
const HARD_TIMEOUT_MS = 60_000;
/** One step, from injecting the command to its final message. */
const STEP_TIMEOUT_MS = 20_000;
/** Slow enough that each progress edit reaches the channel before the next stage starts. */
const GEMINI_LATENCY_MS = 300;
const EPHEMERAL = 64;

type Who = keyof BotHarness['users'];

/** What a step left behind, for its expectations. */
interface Outcome {
  result: InteractionResult;
  choices: ReadonlyArray<{ name: string; value: string | number }>;
  /** Attachments of this step's messages that were downloaded and read as images. */
  images: Array<{
    attachment: StoredAttachment;
    format: string | undefined;
    width: number | undefined;
    height: number | undefined;
    bytes: number;
  }>;
  /** Gemini requests made while the step ran. */
  geminiCalls: number;
}

/** One command in the script. */
interface Step {
  user: Who;
  sub: string;
  /** Instead of running `/scene <sub>`, press the button with this label under the previous step's public message. */
  press?: string;
  options: Record<string, SceneOptionValue>;
  /** An option the user types part of first, looking at the suggestions before sending. */
  browse?: { option: string; typed: string; type: number };
  /** When a deferred step's answer is plain text (no picture), how to tell it from a progress line. */
  done?: (r: InteractionResult) => boolean;
  /** When the step's answer takes more than one message, how to tell it is complete (instead of the first picture). */
  until?: (r: InteractionResult) => boolean;
  /** What the step must have produced: each returned string is a problem. */
  expect: (o: Outcome) => string[];
}

const SCRIPT: readonly Step[] = [
  {
    user: 'gm',
    sub: 'link',
    options: { campaign: SAMPLE_CAMPAIGN },
    // /scene link acknowledges first, then says what it linked.
    done: (r) => /now illustrates/.test(r.original?.content ?? ''),
    expect: ({ result }) => [
      ...(result.ephemeral ? ['the link confirmation was ephemeral; the channel should see it'] : []),
      ...(/now illustrates \*\*.+\*\*/.test(result.original?.content ?? '')
        ? []
        : [`no link confirmation (got ${JSON.stringify(result.original?.content ?? null)})`]),
    ],
  },
  {
    user: 'gm',
    sub: 'settings',
    options: { art_style: 'ink and watercolour, muted tones', daily_pictures: 40 },
    expect: ({ result }) => [
      ...(result.ephemeral ? [] : ['the settings were shown to the whole channel']),
      ...(/^Changed: art style: default → ink and watercolour/.test(result.original?.content ?? '') ? [] : ['no "Changed:" line']),
      ...(result.original?.embeds[0]?.title === 'Settings · Arrival at Kraghammer' ? [] : ['no settings embed']),
    ],
  },
  {
    user: 'ana',
    sub: 'current',
    options: {},
    expect: (o) => [...expectPicture(o, /^Turn [\d,]+ · current scene$/), ...expectProgress(o)],
  },
  {
    user: 'ana',
    sub: 'current',
    options: { shape: 'portrait', note: 'focus on the dwarven guards at the gate' },
    expect: (o) => {
      const png = o.images.find((i) => i.format === 'png');
      const note = o.result.original?.embeds[0]?.fields?.find((f: { name: string }) => f.name === "Director's note");
      return [
        ...expectPicture(o, /^Turn [\d,]+ · current scene$/),
        ...(png && png.height! > png.width! ? [] : ['the picture is not portrait-shaped']),
        ...(note?.value === 'focus on the dwarven guards at the gate' ? [] : ["the embed does not show the director's note"]),
      ];
    },
  },
  {
    user: 'bo',
    sub: 'turn',
    options: { number: 1500 },
    browse: { option: 'number', typed: '150', type: 4 },
    expect: (o) => [
      ...(o.choices.some((c) => c.value === 1500) ? [] : ['typing "150" did not suggest turn 1500']),
      ...expectPicture(o, /^Turn 1,500$/),
      ...expectProgress(o),
    ],
  },
  {
    user: 'bo',
    sub: 'best',
    options: {},
    expect: (o) => [...expectPicture(o, /^Turn [\d,]+ · best scene$/), ...expectProgress(o)],
  },
  {
    user: 'ana',
    sub: 'edit',
    options: { prompt: 'make it night, with lanterns glowing' },
    expect: (o) => [...expectPicture(o, /^Turn 2,160 · edit$/), ...expectProgress(o)],
  },
  {
    user: 'bo',
    sub: 'recap',
    options: { from: 1200, to: 1500, panels: 4 },
    until: (r) => r.followUps.length === 4,
    expect: (o) => [...expectStoryboard(o, 4), ...expectProgress(o)],
  },
  {
    user: 'ana',
    sub: 'turn',
    options: { number: 9999 },
    expect: ({ result, geminiCalls }) => {
      const problems: string[] = [];
      // The range is checked before any public acknowledgement, so the answer is the ephemeral reply itself.
      const notice = [result.original, ...result.followUps].find((m) => m && m.flags & EPHEMERAL);
      if (!notice || !/out of range/.test(notice.content)) problems.push('no ephemeral "out of range" answer');
      if (result.original && !result.original.deleted && !(result.original.flags & EPHEMERAL)) {
        problems.push('a public reply was left in the channel');
      }
      if (geminiCalls > 0) problems.push(`Gemini was called ${geminiCalls} time(s) for an impossible turn`);
      return problems;
    },
  },
  {
    user: 'ana',
    sub: 'current',
    options: { count: 4 },
    expect: (o) => expectSheet(o, 4),
  },
  {
    user: 'ana',
    sub: 'use',
    press: 'Use 2',
    options: {},
    expect: (o) => expectPicture(o, /^Turn 2,160 · variation 2$/),
  },
  {
    user: 'ana',
    sub: 'delete',
    press: 'Delete',
    options: {},
    done: (r) => /^Deleted the picture/.test(r.original?.content ?? ''),
    expect: ({ result }) => [
      ...(result.ephemeral ? [] : ['the deletion was confirmed publicly; only the deleter should see it']),
      ...(/^Deleted the picture of turn 2,160/.test(result.original?.content ?? '')
        ? []
        : [`no deletion confirmation (${describeEnd(result)})`]),
    ],
  },
  {
    user: 'bo',
    sub: 'help',
    options: {},
    expect: ({ result }) => [
      ...(result.ephemeral ? [] : ['help was shown to the whole channel']),
      ...(/^This channel illustrates \*\*Arrival at Kraghammer\*\*/.test(String(result.original?.embeds[0]?.description ?? ''))
        ? []
        : ['help does not say what the channel illustrates']),
    ],
  },
  {
    user: 'gm',
    sub: 'new',
    options: {
      name: 'Tavern Tales',
      transcript: {
        filename: 'tavern.txt',
        contentType: 'text/plain',
        bytes: Buffer.from(
          'Narrator: Rain hammers the shutters of the Sleeping Giant tavern.\nMira: I slide a silver coin across the bar and ask about the missing caravan.\nBarkeep: He leans in and points at a hooded stranger by the fire.\n',
        ),
      },
    },
    done: (r) => /^Created/.test(r.original?.content ?? ''),
    expect: ({ result }) => [
      ...(result.original?.content.startsWith('Created **Tavern Tales** (`tavern-tales`) from `tavern.txt`: 3 turns.')
        ? []
        : [`no creation answer (got ${JSON.stringify(result.original?.content ?? null)})`]),
    ],
  },
];

/** A public contact sheet of `count` variations with a Use button for each. */
function expectSheet({ result, images, geminiCalls }: Outcome, count: number): string[] {
  const message = result.original;
  if (!message || message.deleted) return [`no contact sheet was posted (${describeEnd(result)})`];
  const problems: string[] = [];
  const sheet = images.find((i) => i.attachment.filename === 'variations.jpg');
  if (!sheet || sheet.format !== 'jpeg') problems.push('no readable variations.jpg');
  const labels = message.components.flatMap((row) => row.components).map((b: { label: string }) => b.label);
  const wanted = Array.from({ length: count }, (_, i) => `Use ${i + 1}`);
  if (JSON.stringify(labels) !== JSON.stringify(wanted)) problems.push(`buttons ${JSON.stringify(labels)}, not ${JSON.stringify(wanted)}`);
  // One prompt writer call, then one image call per variation.
  if (geminiCalls !== count + 1) problems.push(`${geminiCalls} Gemini calls for ${count} variations (expected ${count + 1})`);
  return problems;
}

/** A public message carrying a valid PNG, shown inline by its embed. */
function expectPicture({ result, images }: Outcome, title: RegExp): string[] {
  const message = result.original;
  if (!message || message.deleted) return [`no picture was posted (${describeEnd(result)})`];
  const problems: string[] = [];
  if (result.ephemeral) problems.push('the picture was only visible to its requester');
  const embed = message.embeds[0];
  if (!embed) problems.push('the picture has no embed');
  else if (!title.test(String(embed.title))) problems.push(`embed title ${JSON.stringify(embed.title)} does not match ${title}`);
  const png = images.find((i) => i.attachment.filename.endsWith('.png'));
  if (!png) return [...problems, `no PNG attachment (${message.attachments.map((a) => a.filename).join(', ') || 'no attachments'})`];
  if (png.format !== 'png' || !png.width || !png.height)
    problems.push(`${png.attachment.filename} is not a readable PNG (sharp says ${png.format ?? 'unknown'})`);
  else if (png.width !== png.attachment.width || png.height !== png.attachment.height) {
    problems.push(
      `${png.attachment.filename} is ${png.width}×${png.height} but Discord recorded ${png.attachment.width}×${png.attachment.height}`,
    );
  }
  if (png.bytes !== png.attachment.size)
    problems.push(`downloaded ${png.bytes} bytes of ${png.attachment.filename}, Discord stored ${png.attachment.size}`);
  if (embed && embed.image?.url !== png.attachment.url) problems.push('the embed does not show the attached picture');
  return problems;
}

/** A public storyboard (one JPEG, the text recap and a caption per panel), then each panel as a picture. */
function expectStoryboard({ result, images }: Outcome, panels: number): string[] {
  const board = result.original;
  if (!board || board.deleted) return [`no storyboard was posted (${describeEnd(result)})`];
  const problems: string[] = [];
  if (result.ephemeral) problems.push('the storyboard was only visible to its requester');
  const jpeg = images.find((i) => i.attachment.id === board.attachments[0]?.id);
  if (!jpeg || jpeg.format !== 'jpeg') problems.push('the storyboard is not a readable JPEG');
  const captions = board.content.split('\n').filter((l) => /^\d\. .+ \(turn [\d,]+\)$/.test(l));
  if (captions.length !== panels) problems.push(`${captions.length} captions under the recap, not ${panels}`);
  if (result.followUps.length !== panels) problems.push(`${result.followUps.length} panel messages, not ${panels}`);
  const titles = result.followUps.map((m) => String(m.embeds[0]?.title));
  if (!titles.every((t, i) => t.endsWith(`· recap ${i + 1}/${panels}`))) problems.push(`panel titles out of order: ${titles.join(' | ')}`);
  return problems;
}

/** People should see the bot working, not a silent "thinking…" for the whole generation. */
function expectProgress({ result }: Outcome): string[] {
  const shown = result.history.slice(0, -1).filter((s) => s.content.length > 0);
  return shown.length > 0 ? [] : ['no progress edits were shown before the picture'];
}

/** A short account of how an interaction ended, for failure messages. */
function describeEnd(r: InteractionResult): string {
  const last = r.followUps.at(-1) ?? r.original;
  return last ? `last message: ${JSON.stringify(last.content)}` : `callbacks: ${r.callbacks.map((c) => c.type).join(',') || 'none'}`;
}

/** Done when the bot has answered for good: an immediate reply, a posted picture or a follow-up. */
function finished(r: InteractionResult): boolean {
  const first = r.callbacks[0];
  if (!first) return false;
  if (first.type !== 5) return true;
  return Boolean(r.original?.attachments.length || r.original?.embeds.length) || r.followUps.length > 0;
}

/** Drops file bytes (already saved beside it) so `messages.json` stays readable. */
function withoutBytes(key: string, value: unknown): unknown {
  return key === 'bytes' ? undefined : value;
}

async function main(): Promise<number> {
  let phase = 'starting the emulators and the bot';
  // unref: a clean run exits on its own; if a handle leaks after close, this still fires and says so.
  setTimeout(() => {
    console.error(`\nDemo FAILED: still running after ${HARD_TIMEOUT_MS / 1000} s (while ${phase}).`);
    process.exit(1);
  }, HARD_TIMEOUT_MS).unref();

  const outDir = path.join(ROOT, OUTPUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const transcript: string[] = [];
  const say = (...lines: string[]) => {
    for (const line of lines) {
      console.log(line);
      transcript.push(line);
    }
  };
  const problems: string[] = [];
  const steps: unknown[] = [];
  const saved = new Map<string, SavedFile>();
  let pictures = 0;
  let h: BotHarness | undefined;
  /** The latest public message a step produced, whose buttons a `press` step uses. */
  let lastPublic: StoredMessage | undefined;

  try {
    h = await startBotHarness();
    h.gemini.setLatency(GEMINI_LATENCY_MS);
    // The emulator answers /scene best's structured scanner calls like a model would.
    h.gemini.onText(scannerScript());
    const channel = h.bot.client.channels.cache.get(h.channels.campaign);
    const channelName = channel && 'name' in channel && channel.name ? channel.name : 'campaign';
    const guildName = h.bot.client.guilds.cache.get(h.guildId)?.name ?? 'the guild';
    const botName = h.discord.botUser.global_name ?? h.discord.botUser.username;

    say(
      `Limner demo: the real bot on loopback Discord and Gemini emulators (pictures are the emulator's placeholders).`,
      `Sample campaign: CRD3 C1E001 "Arrival at Kraghammer", CC BY-SA 4.0 (campaigns/${SAMPLE_CAMPAIGN}/ATTRIBUTION.md).`,
      '',
      channelHeader(channelName, guildName),
    );

    for (const [index, step] of SCRIPT.entries()) {
      const number = index + 1;
      const user = h.users[step.user];
      const label = `step ${number} (${user.username}: /scene ${step.sub})`;
      phase = label;

      let choices: Outcome['choices'] = [];
      if (step.browse) {
        const { option, typed, type } = step.browse;
        choices = (await h.autocomplete(step.sub, { name: option, value: typed, type }, { user })).autocompleteChoices ?? [];
        say(...autocompleteLines(user.username, 'scene', step.sub, option, typed, choices));
      }

      const geminiBefore = h.gemini.requests.length;
      let handle: Awaited<ReturnType<BotHarness['scene']>>;
      const pressedOn = step.press ? lastPublic : undefined;
      if (step.press) {
        const on = lastPublic;
        const button = on?.components.flatMap((row) => row.components).find((b: { label?: string }) => b.label === step.press);
        if (!on || !button) throw new Error(`${label}: no "${step.press}" button on the previous message`);
        say(`  ${user.username} pressed [${step.press}] under the message above`);
        handle = await h.discord.clickButton({
          guildId: h.guildId,
          channelId: on.channel_id,
          user,
          messageId: on.id,
          customId: button.custom_id,
        });
      } else {
        say(commandLine(user.username, 'scene', step.sub, step.options));
        handle = await h.scene(step.sub, step.options, { user });
      }
      try {
        await handle.waitUntil((r) => (step.until ? step.until(r) : finished(r) || Boolean(step.done?.(r))), STEP_TIMEOUT_MS);
      } catch (err) {
        problems.push(`${label} did not finish: ${err instanceof Error ? err.message : String(err)}`);
      }
      const result = handle.result;
      if (result.original && !result.ephemeral && !result.original.deleted) lastPublic = result.original;
      const messages = [result.original, ...result.followUps].filter((m): m is StoredMessage => Boolean(m) && !m?.deleted);

      const images: Outcome['images'] = [];
      for (const attachment of messages.flatMap((m) => m.attachments)) {
        // Fetched from the emulator's URL, as a Discord client would, rather than read from its memory.
        const response = await fetch(attachment.url);
        if (!response.ok) {
          problems.push(`${label}: ${attachment.filename} could not be downloaded (HTTP ${response.status})`);
          continue;
        }
        const bytes = Buffer.from(await response.arrayBuffer());
        const file = `${OUTPUT_DIR}/${String(number).padStart(2, '0')}_${attachment.filename}`;
        await writeFile(path.join(ROOT, file), bytes);
        saved.set(attachment.id, { path: file, size: bytes.length });
        const meta = await sharp(bytes)
          .metadata()
          .catch(() => undefined);
        images.push({ attachment, format: meta?.format, width: meta?.width, height: meta?.height, bytes: bytes.length });
      }

      say(...interactionLines(result, { botName, userName: user.username, saved }));
      if (step.press === 'Delete' && pressedOn && h.discord.message(pressedOn.id)?.deleted) {
        say(`  (the message showing the picture was removed; the contact sheet above now marks it deleted)`);
      }
      const outcome: Outcome = { result, choices, images, geminiCalls: h.gemini.requests.length - geminiBefore };
      problems.push(...step.expect(outcome).map((p) => `${label}: ${p}`));
      pictures += images.filter((i) => i.format === 'png').length;
      steps.push({
        step: number,
        user: user.username,
        command: step.press ? `[${step.press}]` : `/scene ${step.sub}`,
        options: step.options,
        ...(step.browse ? { autocomplete: { ...step.browse, choices } } : {}),
        callbacks: result.callbacks,
        ephemeral: result.ephemeral,
        history: result.history,
        messages: [result.original, ...result.followUps].filter(Boolean),
      });
    }

    if (h.discord.unhandled.length > 0) {
      problems.push(`the Discord emulator had no route for: ${h.discord.unhandled.map((u) => `${u.method} ${u.path}`).join(', ')}`);
    }
    await writeFile(
      path.join(outDir, 'messages.json'),
      `${JSON.stringify({ guild: guildName, channel: channelName, steps, channelAtEnd: h.discord.messages(h.channels.campaign) }, withoutBytes, 2)}\n`,
    );
  } catch (err) {
    problems.push(`${phase} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    phase = 'shutting down';
    await h?.close().catch((err: unknown) => problems.push(`shutting down failed: ${String(err)}`));
  }

  say('');
  if (problems.length === 0) {
    say(`Demo finished: ${pictures} picture${pictures === 1 ? '' : 's'} in ${OUTPUT_DIR}/ (no network, no credentials used).`);
  } else {
    say(`Demo FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'}:`, ...problems.map((p) => `  - ${p}`));
  }
  await writeFile(path.join(outDir, 'transcript.txt'), `${transcript.join('\n')}\n`);
  return problems.length === 0 ? 0 : 1;
}

// exitCode rather than exit(): the run must end because everything closed, not because it was cut off.
process.exitCode = await main();
