/** What `npm run bench` runs: each benchmark is a module with a name and a run that returns its report. */
export interface BenchReport {
  /** Markdown (tables and short notes), printed as is and pasted into the docs. */
  markdown: string;
  /** False when a figure misses its stated target (`npm run bench` then exits 1). */
  targetsMet: boolean;
}

export interface BenchModule {
  name: string;
  run(log: (line: string) => void): Promise<BenchReport>;
}
