#!/usr/bin/env node
/**
 * The zs command: a shell over the library. It parses flags (yargs), calls the library, formats the result
 * and sets the exit code: 0 success, 1 runtime failure (including "some inputs failed"), 2 usage error.
 * Command modules are imported here, but each loads its heavy dependencies only inside its handler.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { ZsError, usageError } from '../errors.js';
import { editDistance } from '../util/edit-distance.js';
import { errorLine } from './io.js';
import { commands } from './commands.js';

function report(e: unknown): number {
  process.stderr.write(`zs: ${errorLine(e)}\n`);
  if (process.env.ZS_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return e instanceof ZsError ? e.exitCode : 1;
}

/**
 * The command word (the first argument that is not an option) when it names no command: a usage error that says the
 * word and the closest command names. yargs' own recommendCommands prints "Did you mean X?" without the word.
 */
export function checkCommandWord(argv: readonly string[], modules: readonly CommandModule[]): void {
  const word = argv.find((a) => !a.startsWith('-'));
  if (word === undefined) return;
  const names = modules.flatMap((m) => [m.command ?? [], m.aliases ?? []].flat().map((c) => String(c).split(' ')[0]!));
  if (names.includes(word)) return;
  const near = names.map((n) => ({ n, d: editDistance(word.toLowerCase(), n) })).filter((x) => x.d <= 3).sort((a, b) => a.d - b.d);
  const hint = near.length ? `did you mean ${near.slice(0, 2).map((x) => x.n).join(' or ')}? see zs --help` : `the commands are ${names.join(', ')}`;
  throw usageError('E_USAGE', `unknown command '${word}'`, hint);
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('zs')
    .usage('$0 <command> [options]\n\nZero-shot and linear-probe image classification with CLIP/ViT ONNX models.')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress bars or notes on stderr', global: true })
    .strict()
    .demandCommand(1, 'name a command (see zs --help)')
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
  const modules = commands.map((make) => make(ctx));
  for (const m of modules) parser.command(m);
  try {
    checkCommandWord(argv, modules);
    await parser.parseAsync();
  } catch (e) {
    code = report(e);
  }
  return code;
}

main(hideBin(process.argv)).then((code) => { process.exitCode = code; });
