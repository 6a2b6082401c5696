import { LimnerError } from '../errors.ts';

/** `/scene edit` by a user who has no edit session in any campaign. */
export class NoEditSessionError extends LimnerError {
  readonly code = 'edit_session_missing';
  constructor() {
    super('No active image session: make a picture first.');
  }
}

/** `/scene edit` in one campaign's channel by a user whose only (latest) session is in another campaign. */
export class EditSessionElsewhereError extends LimnerError {
  readonly code = 'edit_session_other_campaign';
  constructor(
    readonly sessionCampaign: { readonly id: string; readonly name: string },
    readonly here: { readonly id: string; readonly name: string },
  ) {
    super(`The active image session is in campaign ${sessionCampaign.name} (${sessionCampaign.id}), not in ${here.name} (${here.id}).`);
  }
}

/** An edit instruction that is blank or longer than `maxChars` characters. */
export class EditPromptError extends LimnerError {
  readonly code: 'edit_prompt_empty' | 'edit_prompt_too_long';
  constructor(maxChars: number, length?: number) {
    super(
      length === undefined
        ? 'The edit prompt is empty: say what to change, e.g. "make it night" or "give the dwarf a red cloak".'
        : `The edit prompt is ${length.toLocaleString('en-US')} characters long; keep it to ${maxChars.toLocaleString('en-US')}.`,
    );
    this.code = length === undefined ? 'edit_prompt_empty' : 'edit_prompt_too_long';
  }
}

/** More reference images than the image model accepts with one edit; `allowed` user images fit. */
export class TooManyReferencesError extends LimnerError {
  readonly code = 'references_too_many';
  constructor(
    readonly given: number,
    readonly allowed: number,
  ) {
    super(`Too many reference images (${given}): an edit can take at most ${allowed}.`);
  }
}

/** Edit or Undo on a picture of another user's lineage. */
export class NotImageOwnerError extends LimnerError {
  readonly code = 'image_not_owned';
  constructor() {
    super("This picture belongs to another user's edit session: only they can edit it in place or undo it.");
  }
}

/** Undo on a picture that was not made by editing another. */
export class NothingToUndoError extends LimnerError {
  readonly code = 'undo_nothing';
  constructor() {
    super('This is the first picture of its edit session: there is nothing to undo.');
  }
}

/**
 * A picture that is no longer stored (deleted, or its file lost); `parent` when the missing one is the
 * picture the asked-for one was made from (Undo, rerolling an edit).
 */
export class ImageGoneError extends LimnerError {
  readonly code = 'image_gone';
  constructor(
    readonly imageId: string,
    readonly parent = false,
  ) {
    super(parent ? 'The picture this one was made from has been deleted.' : 'That picture is no longer stored.');
  }
}

/** A repaint prompt that is blank or longer than `maxChars` characters (`generation.max_prompt_chars`). */
export class RepaintPromptError extends LimnerError {
  readonly code: 'repaint_prompt_empty' | 'repaint_prompt_too_long';
  constructor(maxChars: number, length?: number) {
    super(
      length === undefined
        ? 'The prompt is empty: describe the picture to paint.'
        : `The prompt is ${length.toLocaleString('en-US')} characters long; keep it to ${maxChars.toLocaleString('en-US')}.`,
    );
    this.code = length === undefined ? 'repaint_prompt_empty' : 'repaint_prompt_too_long';
  }
}

/** A repaint of a picture made by editing another: it has an instruction, not a scene prompt, to change. */
export class RepaintEditError extends LimnerError {
  readonly code = 'repaint_edit';
  constructor() {
    super('This picture was made by changing another one, so it has no scene prompt to repaint from.');
  }
}

/** Picking a variation someone else asked for. */
export class NotVariationOwnerError extends LimnerError {
  readonly code = 'variation_not_owned';
  constructor() {
    super('Only the person who asked for these variations can pick one.');
  }
}
