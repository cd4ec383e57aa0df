/** The list of zs commands. Each module keeps heavy imports inside its handler. */
import type { CommandFactory } from './command.js';
import { classifyCommand } from './classify.js';
import { embedCommand } from './embed.js';
import { cacheCommand } from './cache.js';
import { modelsCommand } from './models.js';
import { probeCommand } from './probe.js';
import { benchCommand } from './bench.js';
import { indexCommand } from './index-cmd.js';
import { searchCommand } from './search.js';
import { dupesCommand } from './dupes.js';

export const commands: CommandFactory[] = [classifyCommand, embedCommand, cacheCommand, modelsCommand, probeCommand, benchCommand, indexCommand, searchCommand, dupesCommand];
