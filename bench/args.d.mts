// Types of bench/args.mjs (for test/bench/args.test.ts under `strict`).

export interface BenchOptions {
  sections: ('unsigned' | 'signed' | 'scale' | 'profile' | 'profile-signed' | 'shaping')[];
  quick: boolean;
  only: string[] | null;
  names: number | null;
  count: number;
  workers: number | 'auto';
  pin: boolean;
  seconds: number;
  runs: number;
  scaleQps: number;
  install: boolean;
  denials: ('compact' | 'nsec3' | 'nsec')[];
  kit: string;
  out: string | null;
  help: boolean;
}

export const USAGE: string;
export function parseArgs(argv: readonly string[]): BenchOptions;
export function selected(o: BenchOptions, server: string): boolean;
