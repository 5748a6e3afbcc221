import type { Command } from 'commander';
import type { WithDeps } from '../deps.js';

/** Declares `utrig completion bash|zsh|fish`. */
export function declareCompletion(_program: Command, _withDeps: WithDeps): void {}
