import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { CampaignFileError, CampaignNotFoundError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { campaignFileSchema, type Campaign, type CampaignFile } from './campaign.ts';
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
 * joined to a path, so no request can reach outside the root.
 */
export class CampaignRepository {
  /**
   * Parsed transcripts by file, reused while the file's size and modification time are unchanged:
   * autocomplete reads the transcript on every keystroke, and engines append to it while we run.
   */
  private readonly transcripts = new Map<string, { mtimeMs: number; size: number; transcript: Transcript }>();

  /** @param root - Absolute path of the campaigns folder. */
  constructor(readonly root: string) {}

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
   * Reads a campaign's definition and transcript.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError (naming file and entry or line).
   */
  async load(idText: string): Promise<Campaign> {
    const id = parseCampaignId(idText);
    const dir = path.join(this.root, id);
    const def = await this.readDefinition(id);
    const transcript = await this.readTranscript(dir);
    return {
      id,
      dir,
      name: def.name,
      artStyle: def.art_style,
      enabled: def.enabled,
      characters: def.characters.map((c) =>
        c.reference_image === undefined
          ? { name: c.name, description: c.description }
          : { name: c.name, description: c.description, referenceImage: path.join(dir, c.reference_image) },
      ),
      ...(def.attribution === undefined ? {} : { attribution: def.attribution }),
      transcript,
    };
  }

  /**
   * Creates (or replaces) a campaign folder with `campaign.yaml` and `transcript.jsonl`.
   * Files are written to temporary names and renamed, so a reader never sees half a campaign.
   */
  async create(idText: string, definition: CampaignFile, entries: readonly TranscriptEntry[]): Promise<string> {
    const dir = this.dirOf(idText);
    campaignFileSchema.parse(definition);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'transcript.jsonl'), toJsonl(entries));
    await writeFileAtomic(path.join(dir, 'campaign.yaml'), stringifyYaml(definition, { lineWidth: 100 }));
    return dir;
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
      const cached = this.transcripts.get(file);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.transcript;
      const text = await readFile(file, 'utf8');
      const transcript = name === 'transcript.jsonl' ? parseTranscriptJsonl(text, file) : parseTranscriptJson(text, file);
      this.transcripts.set(file, { mtimeMs: info.mtimeMs, size: info.size, transcript });
      return transcript;
    }
    throw new CampaignFileError(dir, [`no transcript: expected ${TRANSCRIPT_FILES.join(' or ')}`]);
  }

  private async readDefinition(id: CampaignId) {
    const file = path.join(this.root, id, 'campaign.yaml');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CampaignNotFoundError(id);
      throw err;
    }
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const line = err.linePos?.[0]?.line;
        throw new CampaignFileError(file, [`${line ? `line ${line}: ` : ''}${err.message.split('\n')[0]}`], { cause: err });
      }
      throw err;
    }
    const parsed = campaignFileSchema.safeParse(raw ?? {});
    if (!parsed.success) throw new CampaignFileError(file, [describeIssues(parsed.error)]);
    return parsed.data;
  }
}

