import { LimnerError } from '../errors.ts';

/**
 * Pro quality asked for where it is not offered: `by` says whether the operator's config has no pro
 * model (`config`) or the guild's settings keep its pictures fast (`settings`).
 */
export class QualityNotAllowedError extends LimnerError {
  readonly code = 'quality_not_allowed';
  constructor(readonly by: 'config' | 'settings') {
    super(
      by === 'config'
        ? 'Pro quality is not offered here: the operator has configured no pro image model.'
        : "This server's settings keep pictures at fast quality.",
    );
  }
}

/** A setting given a value it does not take; `reason` says why (e.g. above the operator's ceiling). */
export class SettingValueError extends LimnerError {
  readonly code = 'setting_invalid';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
  }
}
