// Types of scripts/ensure-test-tools.js for the unit tests (the script itself runs before the build).

/** One tool the tests start themselves, installed from Debian's packages when missing. */
export interface TestTool {
  readonly command: string;
  readonly debianPackage: string;
  readonly usedBy: string;
  readonly service?: string;
}

export declare const TEST_TOOLS: readonly TestTool[];

export declare function findOnPath(command: string, pathEnv?: string): string | undefined;

export declare function aptInstallCommand(packages: readonly string[], isRoot: boolean): string;

export type TestToolsPlan =
  { action: 'none' } | { action: 'install'; packages: string[]; services: string[] } | { action: 'fail'; message: string };

export declare function planTestTools(facts: {
  missing: readonly TestTool[];
  isRoot: boolean;
  hasAptGet: boolean;
  installAllowed: boolean;
}): TestToolsPlan;

export declare function checkJavaAndMaven(options: {
  env: NodeJS.ProcessEnv;
  root: string;
  run?: (cmd: string, args: string[]) => { error?: Error; status: number | null; output: string };
}): string[];
