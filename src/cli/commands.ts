/** The list of zs commands. Each module keeps heavy imports inside its handler. */
import type { CommandFactory } from './command.js';

export const commands: CommandFactory[] = [];
