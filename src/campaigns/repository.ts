import { CampaignFileError, CampaignNotFoundError } from './errors.ts';
import { existsSync, type Stats } from 'node:fs';
import { mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, stringify as stringifyYaml, type YAMLError } from 'yaml';
import { writeFileAtomic } from '../platform/files.ts';
import {
  CAMPAIGN_NAME_MAX_CHARS,
  campaignFileSchema,
  type Campaign,
  type CampaignDefinition,
  type CampaignFile,
  type CampaignSource,
  type CastCharacters,
  type ChannelSource,
  type Character,
} from './campaign.ts';
import { channelCampaignId, type ChannelStories } from './channel.ts';
import { sameCharacter } from './character-names.ts';
import { isCampaignId, parseCampaignId, type CampaignId } from './id.ts';
import {
  describeIssues,
  parseTranscriptJson,
  parseTranscriptJsonl,
  toJsonl,
  TRANSCRIPT_FILES,
  type Transcript,
  type TranscriptEntry,
} from './transcript.ts';

/** A line of `limner campaigns list`: enough to choose a campaign without reading transcripts. */
export interface CampaignSummary {
  readonly id: CampaignId;
  readonly name: string;
}

/**
 * Campaign folders under one root (`campaigns/`). Every id is validated before it is
 * joined to a path, so no request can reach outside the root. A folder whose `campaign.yaml`
 * names a channel `source` is a play-by-post campaign: its transcript and its members' characters
 * come from {@link ChannelStories} instead of a transcript file.
 */
export class CampaignRepository {
  /**
   * Parsed transcripts by file, reused while the file's size, modification time and inode are unchanged (an atomic rewrite within the
   * clock's resolution keeps size and mtime but not the inode):
   * autocomplete reads the transcript on every keystroke, and engines append to it while we run.
   */
  private readonly transcripts = new Map<string, { mtimeMs: number; size: number; ino: number; transcript: Transcript }>();
  /** Parsed `campaign.yaml`s by file, reused while size, modification time and inode are unchanged. */
  private readonly definitions = new Map<string, { mtimeMs: number; size: number; ino: number; definition: CampaignDefinition }>();
  /** The last successful {@link load} of each campaign, for {@link lastLoaded}. */
  private readonly loaded = new Map<string, Campaign>();

  /**
   * @param root - Absolute path of the campaigns folder.
   * @param stories - Reads play-by-post campaigns; without it they cannot be loaded.
   * @param cast - Reads the accepted casts; without it campaigns have only their other characters.
   */
  constructor(
    readonly root: string,
    private readonly stories?: ChannelStories,
    private readonly cast?: CastCharacters,
  ) {}

  /** Absolute folder of a campaign (the id is validated first). @throws InvalidCampaignIdError */
  dirOf(id: string): string {
    return path.join(this.root, parseCampaignId(id));
  }

  /**
   * Campaigns with a `campaign.yaml`, sorted by id. Folders whose YAML is broken are listed
   * by id with the name `(invalid campaign.yaml)` so an operator sees them.
   */
  async list(): Promise<CampaignSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: CampaignSummary[] = [];
    for (const name of names.sort()) {
      if (!isCampaignId(name) || !existsSync(path.join(this.root, name, 'campaign.yaml'))) continue;
      try {
        const def = await this.readDefinition(name);
        out.push({ id: name, name: def.name });
      } catch {
        out.push({ id: name, name: '(invalid campaign.yaml)' });
      }
    }
    return out;
  }

  /**
   * Where a campaign's story comes from: from the last {@link load} when there was one (every
   * generation loads afresh, so it follows edits to `campaign.yaml`), otherwise from its
   * `campaign.yaml` alone. No transcript or play-by-post story is read, so it is cheap enough to ask
   * before every command.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError
   */
  async source(idText: string): Promise<CampaignSource> {
    const loaded = this.loaded.get(idText);
    if (loaded) return loaded.source;
    const { source } = await this.readDefinition(parseCampaignId(idText));
    return sourceOf(source);
  }

  /**
   * Reads a campaign's definition and transcript.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError (naming file and entry or line).
   */
  async load(idText: string): Promise<Campaign> {
    try {
      const campaign = await this.loadUnchecked(idText);
      this.loaded.set(campaign.id, campaign);
      return campaign;
    } catch (err) {
      this.loaded.delete(idText);
      throw err instanceof CampaignFileError ? err.relativeTo(this.root) : err;
    }
  }

  /**
   * The campaign as the last {@link load} found it, without touching a file; undefined when it has
   * not been loaded (or its last load failed). It may be out of date: use it only for checks that a
   * fresh load repeats.
   */
  lastLoaded(idText: string): Campaign | undefined {
    return this.loaded.get(idText);
  }

  /**
   * Runs `check` on the campaign as last read, without touching the disk, so a door can refuse
   * before acknowledging; when that refuses, or the campaign was never read, on a fresh {@link load}
   * (the files may have changed since).
   * @throws whatever {@link load} or `check` throws on the fresh read.
   */
  async checkRecent<T>(idText: string, check: (campaign: Campaign) => T): Promise<T> {
    const recent = this.loaded.get(idText);
    if (recent) {
      try {
        return check(recent);
      } catch {
        // Maybe out of date: the fresh read below decides.
      }
    }
    return check(await this.load(idText));
  }

  private async loadUnchecked(idText: string): Promise<Campaign> {
    const id = parseCampaignId(idText);
    const dir = path.join(this.root, id);
    const def = await this.readDefinition(id);
    const characters: Character[] = def.characters.map((c) =>
      c.reference_image === undefined
        ? { name: c.name, description: c.description }
        : { name: c.name, description: c.description, referenceImage: path.join(dir, c.reference_image) },
    );
    const source = sourceOf(def.source);
    let transcript;
    if (source.kind === 'channel') {
      if (!this.stories) {
        throw new CampaignFileError(path.join(dir, 'campaign.yaml'), ['a play-by-post campaign, but no message store is open to read it from']);
      }
      const story = await this.stories.read(id, dir, source);
      transcript = story.transcript;
      characters.push(...story.characters);
    } else {
      transcript = await this.readTranscript(dir);
    }
    for (const member of (await this.cast?.accepted(id)) ?? []) {
      if (characters.some((c) => sameCharacter(c.name, member.name))) continue;
      const { name, description, portraitPath } = member;
      characters.push(portraitPath === null ? { name, description } : { name, description, storedPortrait: portraitPath });
    }
    const realDir = await realpath(dir);
    const yamlFile = path.join(dir, 'campaign.yaml');
    return {
      id,
      dir,
      name: def.name,
      artStyle: def.art_style,
      enabled: def.enabled,
      characters: await Promise.all(characters.map((c) => portraitInside(c, realDir, yamlFile))),
      ...(def.attribution === undefined ? {} : { attribution: def.attribution }),
      source,
      transcript,
    };
  }

  /**
   * Makes `ch-<channel id>` the play-by-post campaign of a channel: creates its folder and
   * `campaign.yaml` named `name`, or, when it exists, replaces only its `source` (so the operator's
   * name, art style and comments stay).
   * @param name - Display name for a new campaign, cut to 100 characters.
   * @returns The campaign id and whether it was created.
   * @throws CampaignFileError when an existing `campaign.yaml` is malformed.
   */
  async linkChannel(source: ChannelSource, name: string): Promise<{ id: CampaignId; created: boolean }> {
    const id = channelCampaignId(source.channelId);
    const dir = path.join(this.root, id);
    const file = path.join(dir, 'campaign.yaml');
    this.loaded.delete(id);
    const yamlSource = { kind: 'channel', guild_id: source.guildId, channel_id: source.channelId, start_id: source.startId };
    if (!existsSync(file)) {
      const definition: CampaignFile = { name: name.slice(0, CAMPAIGN_NAME_MAX_CHARS), source: yamlSource as CampaignFile['source'] };
      checkDefinition(definition, file);
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(file, stringifyYaml(definition, { lineWidth: 100 }));
      return { id, created: true };
    }
    await this.readDefinition(id);
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.set('source', doc.createNode(yamlSource));
    await writeFileAtomic(file, doc.toString({ lineWidth: 100 }));
    return { id, created: false };
  }

  /**
   * Creates (or replaces) a campaign folder with `campaign.yaml` and `transcript.jsonl`.
   * Files are written to temporary names and renamed, so a reader never sees half a campaign.
   * @throws InvalidCampaignIdError; CampaignFileError, before anything is written, when `definition`
   *   is not what `campaign.yaml` accepts (naming the field and its limit).
   */
  async create(idText: string, definition: CampaignFile, entries: readonly TranscriptEntry[]): Promise<string> {
    const dir = this.dirOf(idText);
    this.loaded.delete(idText);
    checkDefinition(definition, path.join(dir, 'campaign.yaml'));
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'transcript.jsonl'), toJsonl(entries));
    await writeFileAtomic(path.join(dir, 'campaign.yaml'), stringifyYaml(definition, { lineWidth: 100 }));
    return dir;
  }

  /**
   * Replaces a transcript-file campaign's transcript with `entries` (written to `transcript.jsonl`
   * atomically, which is read before any `transcript.json`).
   * @throws InvalidCampaignIdError
   */
  async replaceTranscript(idText: string, entries: readonly TranscriptEntry[]): Promise<void> {
    const dir = this.dirOf(idText);
    this.loaded.delete(idText);
    await writeFileAtomic(path.join(dir, 'transcript.jsonl'), toJsonl(entries));
  }

  /** Reads the first transcript file present in `dir` (see {@link TRANSCRIPT_FILES}). */
  private async readTranscript(dir: string): Promise<Transcript> {
    for (const name of TRANSCRIPT_FILES) {
      const file = path.join(dir, name);
      let info;
      try {
        info = await stat(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (!info.isFile()) throw new CampaignFileError(file, [notAFile(info)]);
      const cached = this.transcripts.get(file);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size && cached.ino === info.ino) return cached.transcript;
      const text = await readFile(file, 'utf8');
      const transcript = name === 'transcript.jsonl' ? parseTranscriptJsonl(text, file) : parseTranscriptJson(text, file);
      this.transcripts.set(file, { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino, transcript });
      return transcript;
    }
    throw new CampaignFileError(dir, [`no transcript: expected ${TRANSCRIPT_FILES.join(' or ')}`]);
  }

  private async readDefinition(id: CampaignId): Promise<CampaignDefinition> {
    const file = path.join(this.root, id, 'campaign.yaml');
    let text: string;
    let info;
    try {
      info = await stat(file);
      if (!info.isFile()) throw new CampaignFileError(file, [notAFile(info)]);
      const cached = this.definitions.get(file);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size && cached.ino === info.ino) return cached.definition;
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CampaignNotFoundError(id);
      throw err;
    }
    const raw = parseCampaignYaml(text, file);
    const parsed = campaignFileSchema.safeParse(raw ?? {});
    if (!parsed.success) throw new CampaignFileError(file, [describeIssues(parsed.error)]);
    this.definitions.set(file, { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino, definition: parsed.data });
    return parsed.data;
  }
}

/**
 * The character with its portrait's real path (symlinks followed), which must lie inside the
 * campaign folder (`realDir`, itself a real path): `campaign.yaml` only names relative paths, but a
 * symlink in the folder could still point at any file of the server. A portrait that does not exist
 * is left as it is, for loading it to report.
 * @throws CampaignFileError naming `file` and the character when the portrait resolves elsewhere.
 */
async function portraitInside(character: Character, realDir: string, file: string): Promise<Character> {
  if (!character.referenceImage) return character;
  let real: string;
  try {
    real = await realpath(character.referenceImage);
  } catch {
    return character;
  }
  const relative = path.relative(realDir, real);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new CampaignFileError(file, [`the portrait of ${character.name} (reference_image) resolves outside the campaign folder`]);
  }
  return { ...character, referenceImage: real };
}

/** `source` of `campaign.yaml` as the domain reads it. */
function sourceOf(source: CampaignDefinition['source']): CampaignSource {
  if (source.kind === 'channel') return { kind: 'channel', guildId: source.guild_id, channelId: source.channel_id, startId: source.start_id };
  return source.guild_id === undefined ? { kind: 'file' } : { kind: 'file', guildId: source.guild_id };
}

/** The problem named when something else than a regular file stands where a campaign file should be. */
function notAFile(info: Stats): string {
  return info.isDirectory() ? 'expected a file, but this is a folder' : 'expected a regular file, but this is another kind of entry';
}

/**
 * `campaign.yaml`'s text as data. What the yaml library refuses for its own safety, such as aliases
 * that would expand past its `maxAliasCount` (a "billion laughs" file) or an alias with no anchor,
 * it throws as a plain error while building the data: it is reported like any syntax error.
 * @throws CampaignFileError naming the file, and the line when the library gives one.
 */
function parseCampaignYaml(text: string, file: string): unknown {
  // Warnings (an unknown tag) are left to the schema, which refuses what they produce; logLevel keeps them off stderr.
  const doc = parseDocument(text, { logLevel: 'error' });
  const syntax = doc.errors[0];
  if (syntax) throw new CampaignFileError(file, [yamlProblem(syntax)], { cause: syntax });
  try {
    return doc.toJS();
  } catch (err) {
    throw new CampaignFileError(file, [`YAML refused: ${(err as Error).message}`], { cause: err });
  }
}

function yamlProblem(err: YAMLError): string {
  const line = err.linePos?.[0]?.line;
  return `${line ? `line ${line}: ` : ''}${err.message.split('\n')[0]}`;
}

/** @throws CampaignFileError naming `file` and each field `definition` gets wrong. */
function checkDefinition(definition: CampaignFile, file: string): void {
  const checked = campaignFileSchema.safeParse(definition);
  if (!checked.success) throw new CampaignFileError(file, [describeIssues(checked.error)]);
}
