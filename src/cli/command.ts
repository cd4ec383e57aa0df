/**
 * How a command module is written: a yargs builder plus a `run` that gets parsed args and an Io, and returns
 * the exit code (0, or 1 when some inputs failed). Errors thrown from `run` are printed by bin.ts.
 */
import type { Argv, CommandModule } from 'yargs';
import { makeIo, type Io } from './io.js';

export interface CliContext {
  /** Records the exit code the process should end with. */
  setExit(code: number): void;
}

export interface CommandSpec<A> {
  command: string | string[];
  describe: string;
  builder: (y: Argv) => Argv<A>;
  run: (args: A & { quiet: boolean }, io: Io) => Promise<number | void>;
}

export type CommandFactory = (ctx: CliContext) => CommandModule;

export function defineCommand<A>(spec: CommandSpec<A>): CommandFactory {
  return (ctx) => ({
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder as unknown as CommandModule['builder'],
    handler: async (argv) => {
      const args = argv as unknown as A & { quiet: boolean };
      const code = await spec.run(args, makeIo(Boolean(args.quiet)));
      ctx.setExit(code ?? 0);
    },
  });
}
