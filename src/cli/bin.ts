#!/usr/bin/env node
/**
 * The zs command: a shell over the library. It parses flags (yargs), calls the library, formats the result
 * and sets the exit code: 0 success, 1 runtime failure (including "some inputs failed"), 2 usage error.
 * Command modules are imported here, but each loads its heavy dependencies only inside its handler.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ZsError } from '../errors.js';
import { errorLine } from './io.js';
import { commands } from './commands.js';

function report(e: unknown): number {
  process.stderr.write(`zs: ${errorLine(e)}\n`);
  if (process.env.ZS_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return e instanceof ZsError ? e.exitCode : 1;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('zs')
    .usage('$0 <command> [options]\n\nZero-shot and linear-probe image classification with CLIP/ViT ONNX models.')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress bars or notes on stderr', global: true })
    .strict()
    .demandCommand(1, 'name a command (see zs --help)')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      // yargs breaks some messages over lines ("Invalid values:\n  Argument: ..."): errors are one line
      throw new ZsError('E_USAGE', msg.replace(/\s*\n\s*/g, ' '), { kind: 'usage', hint: 'see zs --help' });
    });
  const ctx = { setExit: (c: number) => { code = c; } };
  for (const make of commands) parser.command(make(ctx));
  try {
    await parser.parseAsync();
  } catch (e) {
    code = report(e);
  }
  return code;
}

main(hideBin(process.argv)).then((code) => { process.exitCode = code; });
