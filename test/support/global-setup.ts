import { NO_POSTGRES, POSTGRES_URL } from './postgres.ts';

/** Runs once before the whole suite: says, in one line, why the PostgreSQL tests are skipped. */
export default function setup(): void {
  if (!POSTGRES_URL) console.log(NO_POSTGRES);
}
