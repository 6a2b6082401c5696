import type { Requester } from '../../src/jobs/runner.ts';

/** A requester for use-case calls in tests: a user (or `cli`), optionally in a guild. */
export function by(userId: string, guildId: string | null = null): Requester {
  return { userId, guildId, channelId: null };
}
