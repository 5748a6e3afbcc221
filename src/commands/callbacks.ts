import type { Command } from 'commander';
import type { Run, WithDeps } from '../deps.js';

/** Declares `utrig listen` and `utrig fire` (cheap: implementations load when they run). */
export function declareCallbackCommands(_program: Command, _r: Run, _withDeps: WithDeps): void {}
