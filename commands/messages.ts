import { OPTIONS as SETTING_OPTIONS } from './scene/settings.ts';
import { relative, type BudgetExceededError } from '../src/jobs/budget.ts';
import type { LimnerError } from '../src/errors.ts';
import type { ScanProgress } from '../src/scenes/best/scanner.ts';
import type { EditProgress } from '../src/edits/edit.ts';
import type { SceneProgress } from '../src/scenes/illustrate.ts';
import type { CastProgress } from '../src/cast/cast.ts';
import type { RecapProgress } from '../src/scenes/recap.ts';

// The Discord door's words: progress events and error codes from src/ become what players read.

const number = new Intl.NumberFormat('en-US');

/** Progress a use case reports, plus the door's own step of fetching attachments. */
export type PictureProgress = SceneProgress | EditProgress | { readonly stage: 'fetching-references'; readonly count: number };

/** How to make a picture, for messages that send users to it. */
const MAKE_ONE = '/scene current, /scene turn or /scene best';

/**
 * The reply's line for a progress event, or undefined for stages too short to be worth a Discord
 * request (reading the campaign, saving the picture: milliseconds, replaced before anyone reads them).
 */
export function progressText(event: PictureProgress): string | undefined {
  switch (event.stage) {
    case 'queued': {
      const ahead = event.place - 1;
      return ahead === 0
        ? 'Waiting for a free painter… you are next.'
        : `Waiting for a free painter… ${number.format(ahead)} ${ahead === 1 ? 'request' : 'requests'} ahead of you.`;
    }
    case 'scanning':
      return scanText(event.scan);
    case 'writing-prompt':
      return 'Writing the prompt…';
    case 'painting':
      return 'total' in event && event.total !== undefined ? `Painting… ${event.done ?? 0}/${event.total}` : 'Painting…';
    case 'waiting':
      return 'Waiting for your previous edit to finish…';
    case 'fetching-references':
      return event.count === 1 ? 'Fetching your reference…' : 'Fetching your references…';
    case 'reading':
    case 'saving':
      return undefined;
  }
}

/** The reply's line for a cast job's progress, or undefined for stages too short to show. */
export function castProgressText(event: CastProgress): string | undefined {
  switch (event.stage) {
    case 'queued':
      return progressText(event);
    case 'casting': {
      const { turns, passages, read } = event.read;
      return `Reading ${number.format(turns)} turns for the cast in ${number.format(passages)} ${passages === 1 ? 'passage' : 'passages'}... ${read}/${passages}`;
    }
    case 'painting-portrait':
      return `Painting the portrait of ${event.name}…`;
    case 'reading':
    case 'saving':
      return undefined;
  }
}

/** The recap reply's line for a progress event, or undefined for reading the campaign (milliseconds). */
export function recapProgressText(event: RecapProgress): string | undefined {
  switch (event.stage) {
    case 'queued':
      return progressText(event);
    case 'reading':
      return undefined;
    case 'choosing-moments': {
      const { turns, passages, scanned } = event.scan;
      const read = passages > 1 ? ` (${scanned}/${passages} passages read)` : '';
      return `Choosing the key moments of ${number.format(turns)} turns…${read}`;
    }
    case 'painting-panel':
      return `Painting panel ${event.panel} of ${event.panels}…`;
    case 'composing':
      return 'Laying out the storyboard…';
  }
}

/** `Scanning 2,160 turns in 13 passages... 7/13`, then the comparison. */
function scanText(p: ScanProgress): string {
  if (p.phase === 'comparing') return `Comparing ${number.format(p.candidates)} candidate moments...`;
  return `Scanning ${number.format(p.turns)} turns in ${number.format(p.passages)} ${p.passages === 1 ? 'passage' : 'passages'}... ${p.scanned}/${p.passages}`;
}

/**
 * What a Discord user reads for an expected failure: the codes whose remedy is a slash command, a
 * button, a reply or the bot's operator are worded here; the rest read as the error's own sentence.
 */
export function errorText(err: LimnerError): string {
  switch (err.code) {
    case 'budget_exceeded':
      return budgetText(err as BudgetExceededError);
    case 'edit_session_missing':
      return `No active image session. Generate one first with ${MAKE_ONE}.`;
    case 'edit_session_other_campaign': {
      const { sessionCampaign: there, here } = err as LimnerError & {
        sessionCampaign: { id: string; name: string };
        here: { id: string; name: string };
      };
      return (
        `Your active image session is in **${there.name}** (\`${there.id}\`), not in this channel's campaign **${here.name}** (\`${here.id}\`). ` +
        `Start one here with ${MAKE_ONE}, or reply to one of this campaign's pictures with your change; ` +
        `to keep editing the other picture, use a channel linked to \`${there.id}\`.`
      );
    }
    case 'image_not_owned':
      return (
        "This picture belongs to another player's edit session, so only they can use Edit, Edit prompt and Undo on it. " +
        'To change it yourself, reply to the picture with your edit: that starts your own session.'
      );
    case 'image_gone':
      if ((err as LimnerError & { parent?: boolean }).parent)
        return 'The picture this one was made from has been deleted, so there is nothing to go back to.';
      return `That picture is no longer stored. Generate a new one with ${MAKE_ONE}.`;
    case 'repaint_edit':
      return 'This picture was made with **Edit**, so it has no scene prompt to change: use **Edit** to change it further.';
    case 'variation_not_owned':
      return 'Only the person who asked for these variations can pick one. Ask for your own with `count` on /scene current, /scene turn or /scene best.';
    case 'image_delete_not_allowed':
      return 'Only the person who made this picture, or someone with **Manage Messages**, can delete it.';
    case 'delete_nothing':
      return `You have no picture in this channel's campaign to delete. Make one with ${MAKE_ONE}.`;
    case 'setting_invalid': {
      const { key, reason } = err as LimnerError & { key: string; reason: string };
      const option = SETTING_OPTIONS[key as keyof typeof SETTING_OPTIONS]?.option ?? key;
      const fix = reason.includes('not linked') ? ' Link it first with `/scene link`, or change the server-wide budgets here.' : '';
      return `\`/scene settings\` \`${option}\`: ${reason}.${fix}`;
    }
    case 'quality_not_allowed':
      return (err as LimnerError & { by: string }).by === 'config'
        ? "Pro quality is not offered here: the bot's operator has configured no pro image model."
        : "This server's settings keep pictures at fast quality. Someone with **Manage Server** can allow pro with `/scene settings quality:`.";
    case 'campaign_not_uploaded':
      return (
        `This channel's campaign \`${(err as LimnerError & { campaignId: string }).campaignId}\` was not made with \`/scene new\` in this server, ` +
        'so its story cannot be replaced from Discord. Make your own with `/scene new name:<..> transcript:<file>`.'
      );
    case 'description_required':
      return `${(err as LimnerError & { character: string }).character} is not in the cast yet: add them with \`/scene character\` and a \`description\`.`;
    case 'transcript_empty':
      return 'There is no story to illustrate yet: this campaign has no turns. Post the first story message, then try again.';
    case 'provider_failed': {
      const operator = (err as LimnerError & { operatorFault: boolean }).operatorFault;
      return operator ? `${err.message} Please tell the bot's operator.` : err.message;
    }
    default:
      return err.message;
  }
}

function budgetText(err: BudgetExceededError): string {
  const resets = `resets ${relative(err.resetsAt - Date.now())} (00:00 UTC)`;
  const { limit } = err;
  switch (limit.kind) {
    case 'guild-images':
      if (limit.needs) {
        return `This needs ${limit.needs.pictures} pictures and this server has ${limit.needs.left} of its ${limit.allowed} left for today; the budget ${resets}.`;
      }
      return `This server has used its ${limit.allowed} pictures for today; the budget ${resets}.`;
    case 'guild-usd':
      return `This server has used its $${limit.allowed.toFixed(2)} image budget for today ($${limit.spent.toFixed(2)} spent); it ${resets}.`;
    case 'user-images':
      if (limit.needs) {
        return `This needs ${limit.needs.pictures} pictures and you have ${limit.needs.left} of your ${limit.allowed} left for today; your budget ${resets}.`;
      }
      return `You have used your ${limit.allowed} pictures for today; your budget ${resets}.`;
    case 'cooldown':
      return `Please wait ${limit.waitS} s before asking for another picture.`;
  }
}
