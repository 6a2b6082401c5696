import { relative, type BudgetExceededError } from '../jobs/budget.ts';
import type { LimnerError } from '../errors.ts';
import type { SceneProgress } from '../scenes/illustrate.ts';

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
        if (limit.left)
          return `guild ${limit.guildId} has ${limit.left} of its ${limit.allowed} pictures left for today, fewer than the ${limit.requested} asked for (--count); the budget ${resets}. As the operator you may ${bypass}.`;
        return `guild ${limit.guildId} has used its ${limit.allowed} pictures for today; the budget ${resets}. As the operator you may ${bypass}.`;
      case 'guild-usd':
        return `guild ${limit.guildId} has used its $${limit.allowed.toFixed(2)} for today ($${limit.spent.toFixed(2)} spent); it ${resets}. As the operator you may ${bypass}.`;
      case 'user-images':
        if (limit.left)
          return `the CLI has ${limit.left} of its ${limit.allowed} pictures left for today (budgets.user_daily_images), fewer than the ${limit.requested} asked for (--count); the budget ${resets}. As the operator you may ${bypass}.`;
        return `the CLI has used its ${limit.allowed} pictures for today (budgets.user_daily_images); the budget ${resets}. As the operator you may ${bypass}.`;
      case 'cooldown':
        return `the CLI's cooldown (budgets.user_cooldown_s) has ${limit.waitS} s left; wait, or ${bypass}.`;
    }
  }
  return err.message;
}
