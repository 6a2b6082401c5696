import path from 'node:path';
import { LimnerError } from '../errors.ts';

/** A campaign id that does not match `[a-z0-9][a-z0-9-]{0,63}`; refused before any file system access. */
export class InvalidCampaignIdError extends LimnerError {
  readonly code = 'campaign_id_invalid';
  constructor(readonly campaignId: string) {
    super(
      `"${campaignId.slice(0, 80)}" is not a valid campaign id: use 1-64 lowercase letters, digits and dashes, starting with a letter or digit.`,
    );
  }
}

/** No folder (or no campaign.yaml) for a valid campaign id. */
export class CampaignNotFoundError extends LimnerError {
  readonly code = 'campaign_not_found';
  constructor(readonly campaignId: string) {
    super(`No campaign named "${campaignId}".`);
  }
}

/**
 * A campaign file (campaign.yaml, transcript, CRD3 episode) is malformed.
 * `file` is the path, `location` names the entry or line (e.g. `line 12`, `entry 3 (turn)`).
 */
export class CampaignFileError extends LimnerError {
  readonly code = 'campaign_file_invalid';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problems.join('; ')}`, options);
  }

  /**
   * The same error naming the file relative to `root` (e.g. `kraghammer/transcript.jsonl`), for
   * messages that reach Discord users, who should not see the server's folders.
   */
  relativeTo(root: string): CampaignFileError {
    const relative = path.relative(root, this.file).split(path.sep).join('/');
    return relative.startsWith('..') ? this : new CampaignFileError(relative || '.', this.problems, { cause: this.cause });
  }
}

/** Image generation is switched off for the campaign (`enabled: false`) or globally. */
export class GenerationDisabledError extends LimnerError {
  readonly code = 'generation_disabled';
  constructor() {
    super('Image generation is not enabled for this campaign.');
  }
}

/** A campaign whose story has no turns yet (a play-by-post channel before its first story message). */
export class EmptyTranscriptError extends LimnerError {
  readonly code = 'transcript_empty';
  constructor() {
    super('There is no story to illustrate yet: this campaign has no turns.');
  }
}

/**
 * A campaign whose transcript a guild may not replace: one the operator keeps on the server, or a
 * play-by-post channel's, rather than one made from a transcript uploaded in that guild.
 */
export class CampaignNotUploadedError extends LimnerError {
  readonly code = 'campaign_not_uploaded';
  constructor(readonly campaignId: string) {
    super(`The story of campaign "${campaignId}" was not uploaded by this guild, so this guild cannot replace it.`);
  }
}
