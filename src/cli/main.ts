#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_NOTE_CHARS, QUALITIES, SHAPE_NAMES, type Quality, type Shape } from '../scenes/canvas.ts';
import { createLimner, type Limner } from '../app.ts';
import { readCrd3Episode, CRD3_ATTRIBUTION } from '../campaigns/crd3.ts';
import { checkImageStore, requireCampaignsFolder } from '../images/doctor.ts';
import { CAMPAIGN_NAME_MAX_CHARS } from '../campaigns/campaign.ts';
import { MAX_CONTEXT_ENTRIES } from '../scenes/context.ts';
import { utcDay, utcMonth } from '../jobs/budget.ts';
import { formatTotals } from '../usage/report.ts';
import { parseCampaignId } from '../campaigns/id.ts';
import { loadConfig, loadDotEnv } from '../platform/config.ts';
import { LimnerError } from '../errors.ts';
import { MAX_VARIATIONS, type SceneProgress, type SceneRequest, type SceneResult, type VariationsResult } from '../scenes/illustrate.ts';
import type { Requester } from '../jobs/runner.ts';
import { CLI_SHARD } from '../jobs/store.ts';
import { castProgressText, errorText, progressText, recapProgressText } from './messages.ts';
import type { CastMember } from '../cast/store.ts';
import { readFile } from 'node:fs/promises';
import { RECAP_DEFAULT_TURNS, RECAP_PANELS } from '../scenes/recap.ts';
import { writeRecap } from '../scenes/recap-files.ts';
import { createLogger, newErrorId } from '../platform/log.ts';
import { exportProgressText, megabytes } from '../exports/export.ts';
import type { ImageRow } from '../platform/schema.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The operator's door onto the use cases: `npm run limner -- <command>`. Pictures are made as jobs
 * like the bot's (budgets, the queue, job rows, the usage ledger) for the user `cli`.
 * Output goes to stdout (human text, or one JSON object per result with --json); errors go to
 * stderr in the terminal's words (./messages.ts) with a non-zero exit code.
 */
const program = new Command('limner')
  .description('Illustrate tabletop campaigns from their transcripts (operator CLI).')
  .option('--json', 'print one JSON object per result')
  .option('-v, --verbose', 'log progress to stderr')
  .showHelpAfterError();

/**
 * An option parser for whole numbers from `min` to `max` written in plain decimal digits: `Number()`
 * alone would also read `0x10`, `1e3`, `16.0` or ` 16` as numbers, which no one means as turn 16.
 * Commander names the option or argument beside the message.
 * @throws InvalidArgumentError for anything else.
 */
function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return (value) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number ${range}, in decimal digits only.`);
    }
    return n;
  };
}

/**
 * `--name` of `import crd3`: what `campaign.yaml` accepts as `name`, checked before anything is read or written.
 * @throws InvalidArgumentError naming the limit.
 */
function campaignName(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a name with at least one visible character.');
  if (value.length > CAMPAIGN_NAME_MAX_CHARS) {
    throw new InvalidArgumentError(`expected at most ${CAMPAIGN_NAME_MAX_CHARS} characters (this one has ${value.length}).`);
  }
  return value;
}

/**
 * Runs `fn` with Limner's services open, and closes them after.
 * @param before - Checks to make before the database is opened (which creates its folder when missing).
 */
function withLimner<A extends unknown[]>(
  fn: (limner: Limner, ...args: A) => Promise<void>,
  before?: (config: Limner['config']) => Promise<void>,
) {
  return async (...args: A): Promise<void> => {
    loadDotEnv();
    const { config, secrets } = loadConfig();
    await before?.(config);
    // Warnings (a scanner answer asked again, a prompt cut) are for the person at the terminal: plain lines, not JSON.
    const log = createLogger({ level: program.opts().verbose ? 'info' : 'warn', human: true });
    const limner = await createLimner(config, secrets, log, { shard: CLI_SHARD });
    try {
      await fn(limner, ...args);
    } finally {
      await limner.close();
    }
  };
}

const json = (): boolean => Boolean(program.opts().json);
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

const campaignsCmd = program.command('campaigns').description('campaign folders');
campaignsCmd
  .command('list')
  .description('list campaigns')
  .action(
    withLimner(async (limner) => {
      const list = await limner.campaigns.list();
      if (json()) return list.forEach((c) => print(c));
      if (list.length === 0) return console.log(`No campaigns in ${limner.config.campaigns_dir}.`);
      for (const c of list) console.log(`${c.id.padEnd(24)} ${c.name}`);
    }),
  );

program
  .command('images')
  .description('stored pictures')
  .command('list')
  .description("list a campaign's pictures")
  .requiredOption('-c, --campaign <id>', 'campaign id')
  .action(
    withLimner(async (limner, opts: { campaign: string }) => {
      const rows = await limner.images.list(parseCampaignId(opts.campaign));
      if (json()) return rows.forEach((r) => print(imageJson(limner, r)));
      if (rows.length === 0) return console.log('No pictures yet.');
      for (const r of rows) {
        console.log(`${r.id}  turn ${String(r.turn).padStart(5)}  ${r.mode.padEnd(8)}  ${r.width}x${r.height}  ${r.createdAt}`);
      }
    }),
  );

/** Options every `scene` command takes. */
interface SceneOptions {
  campaign: string;
  guild?: string;
  ignoreBudget?: boolean;
  fresh?: boolean;
  count?: number;
  shape?: Shape;
  quality?: Quality;
  note?: string;
}

const scene = program.command('scene').description('illustrate a scene');
/** A `scene` subcommand with the options they share. */
function sceneCommand(name: string, description: string) {
  return scene
    .command(name)
    .description(description)
    .requiredOption('-c, --campaign <id>', 'campaign id')
    .option(
      '--guild <id>',
      'Discord guild whose budgets and usage the picture counts against (default: the one guild the campaign is linked in, if any)',
    )
    .option('--ignore-budget', 'bypass budgets and the cooldown (recorded in the usage ledger)')
    .option('--fresh', 'paint a new picture even when the identical scene was painted within budgets.dedupe_window_s')
    .option(
      '--count <n>',
      `paint 1-${MAX_VARIATIONS} variations of the same prompt (each counts against budgets)`,
      wholeNumber(1, MAX_VARIATIONS),
    )
    .addOption(
      new Option('--shape <shape>', "the picture's shape (default: the guild's setting, else generation.aspect_ratio)").choices(
        SHAPE_NAMES,
      ),
    )
    .addOption(new Option('--quality <quality>', "fast, or pro as config and the guild's settings allow").choices(QUALITIES))
    .option('--note <text>', `a director's note the prompt writer follows, at most ${MAX_NOTE_CHARS} characters`);
}
sceneCommand('current', 'illustrate the latest moment')
  .option('--context <n>', `entries of context (1-${MAX_CONTEXT_ENTRIES})`, wholeNumber(1, MAX_CONTEXT_ENTRIES))
  .action(
    withLimner(async (limner, opts: SceneOptions & { context?: number }) => {
      const request = { kind: 'current', ...(await sceneRequest(limner, opts)) } as const;
      await illustrate(limner, opts.context === undefined ? request : { ...request, contextEntries: opts.context }, opts.count);
    }),
  );
sceneCommand('turn', 'illustrate a numbered turn (1-based)')
  .argument('<n>', 'turn number', wholeNumber(1))
  .action(
    withLimner(async (limner, turn: number, opts: SceneOptions) => {
      await illustrate(limner, { kind: 'turn', turn, ...(await sceneRequest(limner, opts)) }, opts.count);
    }),
  );
sceneCommand('best', 'find the most visually striking turn of the whole transcript and illustrate it').action(
  withLimner(async (limner, opts: SceneOptions) => {
    await illustrate(limner, { kind: 'best', ...(await sceneRequest(limner, opts)) }, opts.count);
  }),
);

/** A repeatable `name=value` option's parser. @throws InvalidArgumentError without a `=`. */
function namedValue(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`expected <name>=<value>, e.g. "Grog=a towering goliath".`);
  return [...previous, [value.slice(0, at).trim(), value.slice(at + 1).trim()]];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

program
  .command('cast')
  .description("propose the story's recurring characters; accept, describe or drop them; paint reference portraits for those accepted")
  .requiredOption('-c, --campaign <id>', 'campaign id')
  .option('--accept-all', 'accept every proposed character (dropped ones stay dropped)')
  .option('--accept <name>', 'accept this character (repeatable)', collect)
  .option('--describe <name=looks>', 'accept this character with these looks instead of the proposed ones (repeatable)', namedValue)
  .option('--drop <name>', 'drop this character: out of the cast and not proposed again (repeatable)', collect)
  .option('--portrait <name=file>', "replace this character's portrait with an image file (PNG, JPEG, WebP or GIF; repeatable)", namedValue)
  .option('--reroll <name>', "paint this character's portrait again (repeatable)", collect)
  .option(
    '--guild <id>',
    'Discord guild whose budgets and usage the calls count against (default: the one guild the campaign is linked in, if any)',
  )
  .option('--ignore-budget', 'bypass budgets and the cooldown (recorded in the usage ledger)')
  .action(
    withLimner(
      async (
        limner,
        opts: SceneOptions & {
          acceptAll?: boolean;
          accept?: string[];
          describe?: Array<[string, string]>;
          drop?: string[];
          portrait?: Array<[string, string]>;
          reroll?: string[];
        },
      ) => {
        const { campaignId, requester } = await sceneRequest(limner, opts);
        const request = { campaignId, requester };
        const verbose = Boolean(program.opts().verbose);
        const onProgress = (event: Parameters<typeof castProgressText>[0]) => {
          const text = castProgressText(event);
          if (verbose && text) process.stderr.write(`${text}\n`);
        };
        const proposal = await limner.cast.propose(request, { onProgress });
        const droppedNow = new Set<number>();
        for (const name of opts.drop ?? [])
          droppedNow.add((await limner.cast.drop(campaignId, (await limner.cast.memberNamed(campaignId, name)).id)).id);
        for (const [name, looks] of opts.describe ?? [])
          await limner.cast.accept(campaignId, (await limner.cast.memberNamed(campaignId, name)).id, looks);
        for (const name of opts.accept ?? []) await limner.cast.accept(campaignId, (await limner.cast.memberNamed(campaignId, name)).id);
        if (opts.acceptAll) {
          for (const m of await limner.cast.members(campaignId)) if (m.status === 'proposed') await limner.cast.accept(campaignId, m.id);
        }
        for (const [name, file] of opts.portrait ?? []) {
          await limner.cast.setCharacter({ ...request, name, image: { name: path.basename(file), bytes: await readFile(file) } });
        }
        const painted = new Set<number>();
        for (const name of opts.reroll ?? []) {
          const result = await limner.cast.portrait(
            { ...request, memberId: (await limner.cast.memberNamed(campaignId, name)).id, reroll: true },
            { onProgress },
          );
          painted.add(result.member.id);
        }
        for (const result of await limner.cast.paintMissing(request, { onProgress })) painted.add(result.member.id);
        // Dropped characters are listed only on the run that drops them.
        const members = (await limner.cast.members(campaignId)).filter((m) => m.status !== 'dropped' || droppedNow.has(m.id));
        if (json()) {
          for (const m of members) print(await castJson(limner, m, painted.has(m.id)));
          return;
        }
        const cost = proposal.cached ? 'no model call (read before)' : `${proposal.calls.length} model calls`;
        console.log(`Cast of ${proposal.campaign.name}: ${proposal.passages} passages read, ${cost}.`);
        if (proposal.defined.length > 0) console.log(`Defined in campaign.yaml (kept as defined): ${proposal.defined.join(', ')}`);
        for (const m of members) {
          const portrait = (await castJson(limner, m, painted.has(m.id))).portrait;
          console.log(`${m.status.padEnd(9)} ${m.name}: ${m.description}`);
          if (portrait) console.log(`          portrait${painted.has(m.id) ? ' (painted now)' : ''}: ${portrait}`);
        }
        if (members.some((m) => m.status === 'proposed'))
          console.log('Accept with --accept <name> or --accept-all, change looks with --describe <name=looks>, drop with --drop <name>.');
      },
    ),
  );

async function castJson(limner: Limner, m: CastMember, painted: boolean) {
  const image = m.portraitImageId ? await limner.images.get(m.portraitImageId) : undefined;
  return {
    id: m.id,
    campaignId: m.campaignId,
    name: m.name,
    description: m.description,
    status: m.status,
    portrait: image ? limner.images.location(image.imagePath) : null,
    portraitImageId: image?.id ?? null,
    painted,
  };
}

/** The fields of a scene request the `scene` options give (without `--guild`, the one guild linking the campaign, if only one does). */
async function sceneRequest(
  limner: Limner,
  opts: SceneOptions,
): Promise<{ campaignId: string; requester: Requester; fresh: boolean; shape?: Shape; quality?: Quality; note?: string }> {
  const campaignId = parseCampaignId(opts.campaign);
  const linkedIn = await limner.links.guildsOf(campaignId);
  const guildId = opts.guild ?? (linkedIn.length === 1 ? linkedIn[0]! : null);
  return {
    campaignId,
    requester: { userId: 'cli', guildId, channelId: null, ignoreBudget: Boolean(opts.ignoreBudget) },
    fresh: Boolean(opts.fresh),
    ...(opts.shape ? { shape: opts.shape } : {}),
    ...(opts.quality ? { quality: opts.quality } : {}),
    ...(opts.note ? { note: opts.note } : {}),
  };
}

program
  .command('recap')
  .description('illustrate a recap of a range of turns: key moments painted as a storyboard')
  .requiredOption('-c, --campaign <id>', 'campaign id')
  .option('--from <n>', `first turn (default: after the CLI's previous recap, or the last ${RECAP_DEFAULT_TURNS} turns)`, wholeNumber(1))
  .option('--to <n>', 'last turn (default: the latest)', wholeNumber(1))
  .option(
    '--panels <k>',
    `pictures (${RECAP_PANELS.min}-${RECAP_PANELS.max}, default ${RECAP_PANELS.default})`,
    wholeNumber(RECAP_PANELS.min, RECAP_PANELS.max),
  )
  .option('-o, --out <dir>', 'folder to write the storyboard and the panels to (created when missing)', '.')
  .option(
    '--guild <id>',
    'Discord guild whose budgets and usage the pictures count against (default: the one guild the campaign is linked in, if any)',
  )
  .option('--ignore-budget', 'bypass budgets and the cooldown (recorded in the usage ledger)')
  .action(
    withLimner(async (limner, opts: Omit<SceneOptions, 'fresh'> & { from?: number; to?: number; panels?: number; out: string }) => {
      const { campaignId, requester } = await sceneRequest(limner, opts);
      const verbose = Boolean(program.opts().verbose);
      const result = await limner.recaps.run(
        { campaignId, requester, from: opts.from, to: opts.to, panels: opts.panels },
        {
          onProgress: (event) => {
            const text = recapProgressText(event);
            if (verbose && text) process.stderr.write(`${text}\n`);
          },
        },
      );
      const written = await writeRecap(result, path.resolve(opts.out));
      if (json()) {
        return print({
          campaignId: result.campaign.id,
          from: result.from,
          to: result.to,
          recap: result.recap,
          cachedScan: result.cached,
          storyboard: written.storyboard,
          panels: result.panels.map((p, i) => ({ ...imageJson(limner, p.image), caption: p.caption, file: written.panels[i] })),
        });
      }
      console.log(`Recap of turns ${result.from}-${result.to} · ${result.campaign.name}${result.cached ? ' (cached scan)' : ''}`);
      console.log(result.recap);
      for (const [i, p] of result.panels.entries()) console.log(`${i + 1}. turn ${p.image.turn}: ${p.caption}\n   ${written.panels[i]}`);
      console.log(`Storyboard: ${written.storyboard}`);
    }),
  );

program
  .command('import')
  .description('make a campaign from another format')
  .command('crd3')
  .description('import a CRD3 episode (Critical Role dataset JSON)')
  .argument('<episode>', 'path of the episode JSON file')
  .requiredOption('-c, --campaign <id>', 'id of the campaign to create')
  .option('--name <name>', `display name, at most ${CAMPAIGN_NAME_MAX_CHARS} characters (default: the episode title)`, campaignName)
  .option('--force', 'replace an existing campaign')
  .action(
    withLimner(async (limner, file: string, opts: { campaign: string; name?: string; force?: boolean }) => {
      const dir = limner.campaigns.dirOf(opts.campaign);
      if (existsSync(path.join(dir, 'campaign.yaml')) && !opts.force) {
        throw new CampaignExistsError(opts.campaign);
      }
      const episode = await readCrd3Episode(file);
      const name = (opts.name ?? episode.title ?? path.basename(file, '.json')).slice(0, CAMPAIGN_NAME_MAX_CHARS);
      await limner.campaigns.create(
        opts.campaign,
        { name, art_style: 'digital fantasy painting, dramatic lighting, rich colours', attribution: CRD3_ATTRIBUTION },
        episode.entries,
      );
      const last = episode.entries.at(-1)?.turn ?? 0;
      if (json()) return print({ campaignId: opts.campaign, name, turns: episode.entries.length, lastTurn: last, dir });
      console.log(`Imported "${name}" as ${opts.campaign}: ${episode.entries.length.toLocaleString('en-US')} turns (1-${last}) in ${dir}`);
    }),
  );

program
  .command('export')
  .description('zip every picture of a campaign with a manifest.json (one zip unless --max-part-bytes)')
  .requiredOption('-c, --campaign <id>', 'campaign id')
  .requiredOption('-o, --out <dir>', 'folder to write the zips to (created when missing)')
  .option('--max-part-bytes <n>', 'split into zips of at most n bytes', wholeNumber(1))
  .action(
    withLimner(async (limner, opts: { campaign: string; out: string; maxPartBytes?: number }) => {
      const plan = await limner.exports.plan({
        campaignId: opts.campaign,
        ...(opts.maxPartBytes === undefined ? {} : { maxPartBytes: opts.maxPartBytes }),
      });
      const verbose = Boolean(program.opts().verbose);
      const files = await limner.exports.write(plan, path.resolve(opts.out), {
        onProgress: (p) => {
          if (verbose) process.stderr.write(`${exportProgressText(p)}\n`);
        },
      });
      for (const [i, part] of plan.parts.entries()) {
        if (json())
          print({ file: files[i], bytes: part.bytes, images: part.entries.length, converted: part.entries.filter((e) => e.jpeg).length });
        else console.log(`${files[i]} (${part.entries.length} pictures, ${megabytes(part.bytes)})`);
      }
      if (json()) return;
      const zips = plan.parts.length === 1 ? '1 zip' : `${plan.parts.length} zips`;
      console.log(`Exported ${plan.imageCount} pictures into ${zips} (${megabytes(plan.bytes)}).`);
      if (plan.converted > 0) console.log(`${plan.converted} pictures larger than a zip are included as JPEG; see manifest.json.`);
    }),
  );

program
  .command('storybook')
  .description("write a campaign's storybook: storybook.html with its pictures beside it, as in an export")
  .requiredOption('-c, --campaign <id>', 'campaign id')
  .requiredOption('-o, --out <dir>', 'folder to write to (created when missing)')
  .action(
    withLimner(async (limner, opts: { campaign: string; out: string }) => {
      const plan = await limner.exports.plan({ campaignId: opts.campaign });
      const page = await limner.exports.writeStorybook(plan, path.resolve(opts.out));
      if (json()) return print({ file: page, images: plan.imageCount });
      console.log(`${page} (${plan.imageCount} pictures beside it)`);
    }),
  );

program
  .command('doctor')
  .description('check the picture store for crash debris; --fix removes temporary files and keeps unrecorded pictures in lost+found')
  .option('--fix', 'clean up what is safe to clean')
  .action(
    withLimner(
      async (limner, opts: { fix?: boolean }) => {
        const report = await checkImageStore(limner.store, limner.config.campaigns_dir, {
          fix: Boolean(opts.fix),
          storage: limner.images.storage,
        });
        const purged = opts.fix ? await limner.deletions.purgeTrash() : [];
        if (json()) return print({ ...report, purgedTrash: purged });
        const lines = [
          ...report.tempFiles.map((f) => `temporary file left by an interrupted write: ${f}`),
          ...report.unrecordedImages.map((f) => `picture without a database row: ${f}`),
          ...report.missingFiles.map((m) => `row ${m.imageId} without its picture: ${m.imagePath} (left as is: the disk may be missing)`),
        ];
        const minutes = Math.round(report.minAgeMs / 60_000);
        if (lines.length > 0) console.log(lines.join('\n'));
        else if (report.skipped.length === 0) console.log('The picture store is clean.');
        else console.log('Nothing to clean among the files old enough to check.');
        if (report.skipped.length > 0) {
          console.log(
            `Skipped ${report.skipped.length} file(s) younger than ${minutes} minutes, which a running bot may still be writing; run again later to check them:`,
          );
          for (const f of report.skipped) console.log(`  ${f}`);
        }
        for (const action of report.actions) console.log(`fixed: ${action}`);
        const days = limner.config.images.trash_days;
        for (const file of purged) console.log(`fixed: removed ${file}, deleted more than ${days} days ago (images.trash_days)`);
        if (!opts.fix && report.tempFiles.length + report.unrecordedImages.length > 0) console.log('Run with --fix to clean up.');
      },
      (config) => requireCampaignsFolder(config.campaigns_dir),
    ),
  );

program
  .command('usage')
  .description('model use and estimated spend: today and this month (UTC), or since a date')
  .option('--guild <id>', 'one Discord guild only')
  .option('--since <date>', 'from this date (YYYY-MM-DD or ISO 8601) instead of today and this month', parseSince)
  .action(
    withLimner(async (limner, opts: { guild?: string; since?: string }) => {
      const now = new Date();
      const periods: Array<[string, string]> = opts.since
        ? [[`since ${opts.since.slice(0, 10)}`, opts.since]]
        : [
            ['today', utcDay(now).start.toISOString()],
            ['this month', utcMonth(now).toISOString()],
          ];
      for (const [label, since] of periods) {
        const totals = await limner.usage.totals({ since, ...(opts.guild ? { guildId: opts.guild } : {}) });
        if (json()) print({ period: label, since, guildId: opts.guild ?? null, ...totals });
        else {
          const scope = opts.guild ? `guild ${opts.guild}` : 'all guilds';
          console.log(
            `${label.padEnd(12)} ${scope}: ${formatTotals(totals)} · ${totals.calls.toLocaleString('en-US')} model calls · ${totals.inputTokens.toLocaleString('en-US')} tokens in, ${totals.outputTokens.toLocaleString('en-US')} out`,
          );
        }
      }
    }),
  );

/** @throws InvalidArgumentError for anything Date cannot read. */
function parseSince(value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`--since: "${value}" is not a date (use YYYY-MM-DD).`);
  return new Date(t).toISOString();
}

class CampaignExistsError extends LimnerError {
  readonly code = 'campaign_exists';
  constructor(id: string) {
    super(`Campaign "${id}" already exists; pass --force to replace its campaign.yaml and transcript.`);
  }
}

/** Runs a scene request and prints its picture, or with `count` over 1 every variation. */
async function illustrate(limner: Limner, request: SceneRequest, count?: number): Promise<void> {
  const verbose = Boolean(program.opts().verbose);
  const onProgress = (event: SceneProgress) => {
    const text = progressText(event);
    if (verbose && text) process.stderr.write(`${text}\n`);
  };
  if (count !== undefined && count > 1)
    return printVariations(limner, await limner.scenes.variations({ ...request, count }, { onProgress }));
  const result = await limner.scenes.run(request, { onProgress });
  if (json()) return print(sceneJson(limner, result));
  const { image } = result;
  const cost = result.reused ? 'nothing new (reused)' : `est. $${image.costUsd.toFixed(4)}`;
  console.log(`Turn ${image.turn.toLocaleString('en-US')} · ${result.campaign.name} (${image.mode})`);
  if (result.reused) {
    console.log(
      `Reused: the identical scene was painted ${Math.max(1, Math.round(result.reused.ageMs / 60_000))} min ago (${image.createdAt}); --fresh paints a new one.`,
    );
  }
  if (result.best) {
    console.log(`Quote:  ${result.best.speaker}: ${result.best.quote}`);
    console.log(`Why:    ${result.best.rationale}${result.best.cached ? ' (cached scan)' : ''}`);
  }
  if (result.note) console.log(`Note:   ${result.note}`);
  console.log(`Prompt: ${image.prompt}`);
  if (result.referenced.length > 0) console.log(`Portraits: ${result.referenced.join(', ')}`);
  console.log(`Image:  ${result.file} (${image.width}x${image.height}, ${(image.bytes / 1024).toFixed(0)} KiB)`);
  console.log(`Model:  ${image.model} · ${cost} · id ${image.id}`);
}

function printVariations(limner: Limner, result: VariationsResult): void {
  if (json()) {
    for (const [i, v] of result.variations.entries()) {
      print({
        ...imageJson(limner, v.image),
        campaignName: result.campaign.name,
        variation: i + 1,
        of: result.variations.length + result.failed,
        referenced: result.referenced,
        ...(result.note ? { note: result.note } : {}),
      });
    }
    return;
  }
  const first = result.variations[0]!.image;
  const total = result.variations.reduce((sum, v) => sum + v.image.costUsd, 0);
  console.log(
    `Turn ${first.turn.toLocaleString('en-US')} · ${result.campaign.name} (${first.mode}) · ${result.variations.length} variations`,
  );
  if (result.best) console.log(`Quote:  ${result.best.speaker}: ${result.best.quote}`);
  if (result.note) console.log(`Note:   ${result.note}`);
  console.log(`Prompt: ${first.prompt}`);
  if (result.referenced.length > 0) console.log(`Portraits: ${result.referenced.join(', ')}`);
  for (const [i, v] of result.variations.entries()) {
    console.log(
      `${String(i + 1).padStart(5)}.  ${v.file} (${v.image.width}x${v.image.height}, ${(v.image.bytes / 1024).toFixed(0)} KiB) · id ${v.image.id}`,
    );
  }
  if (result.failed > 0) console.log(`${result.failed} variation(s) could not be painted; see the log (-v).`);
  console.log(`Model:  ${first.model} · est. $${total.toFixed(4)} in all`);
}

function imageJson(limner: Limner, r: ImageRow) {
  return {
    imageId: r.id,
    imagePath: limner.images.location(r.imagePath),
    storedPath: r.imagePath,
    campaignId: r.campaignId,
    turn: r.turn,
    mode: r.mode,
    prompt: r.prompt,
    model: r.model,
    textModel: r.textModel,
    width: r.width,
    height: r.height,
    bytes: r.bytes,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    costUsd: r.costUsd,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt,
    parentImageId: r.parentImageId,
  };
}

function sceneJson(limner: Limner, result: SceneResult) {
  return {
    ...imageJson(limner, result.image),
    campaignName: result.campaign.name,
    promptTruncated: result.promptTruncated,
    reused: Boolean(result.reused),
    referenced: result.referenced,
    ...(result.reused ? { reusedAgeMs: result.reused.ageMs } : {}),
    ...(result.best ? { best: result.best } : {}),
    ...(result.note ? { note: result.note } : {}),
  };
}

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof LimnerError) {
    process.stderr.write(`limner: ${errorText(err)}\n`);
    process.exitCode = 1;
  } else {
    const errorId = newErrorId();
    createLogger({ level: 'error' }).error({ err, errorId }, 'unexpected error');
    process.stderr.write(`limner: unexpected error (id ${errorId}); details are in the log above.\n`);
    process.exitCode = 2;
  }
}
