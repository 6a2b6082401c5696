import { relative, type BudgetExceededError } from '../jobs/budget.ts';
import type { LimnerError } from '../errors.ts';
import type { SceneProgress } from '../scenes/illustrate.ts';
import type { CastProgress } from '../cast/cast.ts';
import type { RecapProgress } from '../scenes/recap.ts';

// The terminal door's words: progress events and error codes from src/ become what operators read.

/** A line for stderr with `-v`, or undefined for a stage not worth a line. */
export function progressText(event: SceneProgress): string | undefined {
  switch (event.stage) {
    case 'queued':
      return `waiting for a free slot (place ${event.place})`;
    case 'reading':
      return 'reading the campaign';
    case 'scanning': {
      const p = event.scan;
      return p.phase === 'comparing'
        ? `comparing ${p.candidates} candidate moments`
        : `reading the session: passage ${p.scanned}/${p.passages} (${p.turns.toLocaleString('en-US')} turns)`;
    }
    case 'writing-prompt':
      return 'writing the prompt';
    case 'painting':
      return event.total === undefined ? 'painting' : `painting ${event.done ?? 0}/${event.total}`;
    case 'saving':
      return 'saving';
  }
}

/** A line for stderr with `-v` about a cast job, or undefined for a stage not worth a line. */
export function castProgressText(event: CastProgress): string | undefined {
  switch (event.stage) {
    case 'queued':
    case 'reading':
    case 'saving':
      return progressText(event);
    case 'casting':
      return `reading the story for its cast: passage ${event.read.read}/${event.read.passages} (${event.read.turns.toLocaleString('en-US')} turns)`;
    case 'painting-portrait':
      return `painting the portrait of ${event.name}`;
  }
}

/** A line for stderr with `-v` while a recap is made. */
export function recapProgressText(event: RecapProgress): string | undefined {
  switch (event.stage) {
    case 'queued':
    case 'reading':
      return progressText(event);
    case 'choosing-moments':
      return `choosing the key moments: passage ${event.scan.scanned}/${event.scan.passages} (${event.scan.turns.toLocaleString('en-US')} turns)`;
    case 'painting-panel':
      return `painting panel ${event.panel}/${event.panels}`;
    case 'composing':
      return 'laying out the storyboard';
  }
}

/**
 * What an operator reads for an expected failure: budget refusals name the bypass flag; the rest
 * read as the error's own sentence.
 */
export function errorText(err: LimnerError): string {
  if (err.code === 'budget_exceeded') {
    const { limit, resetsAt } = err as BudgetExceededError;
    const bypass = 'pass --ignore-budget to bypass it (recorded in the usage ledger)';
    const resets = `resets ${relative(resetsAt - Date.now())} (00:00 UTC)`;
    switch (limit.kind) {
      case 'guild-images':
        if (limit.needs)
          return `guild ${limit.guildId} has ${limit.needs.left} of its ${limit.allowed} pictures left for today, fewer than the ${limit.needs.pictures} asked for; the budget ${resets}. As the operator you may ${bypass}.`;
        return `guild ${limit.guildId} has used its ${limit.allowed} pictures for today; the budget ${resets}. As the operator you may ${bypass}.`;
      case 'guild-usd':
        return `guild ${limit.guildId} has used its $${limit.allowed.toFixed(2)} for today ($${limit.spent.toFixed(2)} spent); it ${resets}. As the operator you may ${bypass}.`;
      case 'user-images':
        if (limit.needs)
          return `the CLI has ${limit.needs.left} of its ${limit.allowed} pictures left for today (budgets.user_daily_images), fewer than the ${limit.needs.pictures} asked for; the budget ${resets}. As the operator you may ${bypass}.`;
        return `the CLI has used its ${limit.allowed} pictures for today (budgets.user_daily_images); the budget ${resets}. As the operator you may ${bypass}.`;
      case 'cooldown':
        return `the CLI's cooldown (budgets.user_cooldown_s) has ${limit.waitS} s left; wait, or ${bypass}.`;
    }
  }
  if (err.code === 'quality_not_allowed' && (err as LimnerError & { by: string }).by === 'config') {
    return 'pro quality needs a pro image model: set generation.quality_models.pro in the config.';
  }
  return err.message;
}
