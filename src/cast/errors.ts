import { LimnerError } from '../errors.ts';

/** The cast proposer's answer for a passage was not the requested JSON, on the first try and the retry; `problem` says how. */
export class CastReplyError extends LimnerError {
  readonly code = 'cast_reply_invalid';
  constructor(readonly problem: string) {
    super(
      `Gemini twice answered the cast reading with something other than the requested JSON (${problem.slice(0, 200)}). Please try again.`,
    );
  }
}

/** No cast member by this id or name in the campaign (it was never proposed, or the campaign is another). */
export class CastMemberNotFoundError extends LimnerError {
  readonly code = 'cast_member_not_found';
  constructor(
    readonly campaignId: string,
    readonly member: string,
  ) {
    super(`The cast of \`${campaignId}\` has no character ${member.slice(0, 100)}.`);
  }
}

/** A cast change for a character the campaign's `campaign.yaml` defines: the file wins, so it is changed there. */
export class CharacterInFileError extends LimnerError {
  readonly code = 'character_in_file';
  constructor(
    readonly campaignId: string,
    readonly character: string,
  ) {
    super(
      `${character.slice(0, 100)} is defined in the campaign.yaml of \`${campaignId}\`, which wins over the cast: change the description or reference_image there.`,
    );
  }
}

/** A new cast member named without saying what they look like. */
export class DescriptionRequiredError extends LimnerError {
  readonly code = 'description_required';
  constructor(readonly character: string) {
    super(`${character.slice(0, 100)} is not in the cast yet: describe what they look like to add them.`);
  }
}
