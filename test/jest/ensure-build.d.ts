/** Builds dist/ (`npm run build`) when a source is newer than its output (jest global setup). */
declare function ensureBuild(): void;
declare namespace ensureBuild {
  /** Same as the default export. */
  function ensureBuild(): void;
  /** The first source under `root` (default: the project) whose output in dist/ is missing or older; undefined when dist/ is current. */
  function staleSource(root?: string): string | undefined;
}
export = ensureBuild;
