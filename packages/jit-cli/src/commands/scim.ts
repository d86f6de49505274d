import type { Command } from 'commander';
import type { CommandContext } from '../program.js';

export function registerScimCommands(_program: Command, _ctx: CommandContext): void {}
