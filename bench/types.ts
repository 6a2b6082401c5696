/** One section of BENCHMARKS.md, produced by a bench module's `run()`. */
export interface BenchSection {
  /** Section heading, e.g. "Best-scene scanner". */
  readonly title: string;
  /** Markdown body: what was measured, a results table, targets met or missed. */
  readonly markdown: string;
  /** The command that reproduces these figures, e.g. `npx tsx bench/scanner.ts`. */
  readonly command: string;
}
