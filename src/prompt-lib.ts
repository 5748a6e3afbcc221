// The inquirer prompts utrig shows, one by one rather than all of @inquirer/prompts: that package also loads
// @inquirer/editor, whose external-editor pulls iconv-lite's code-page tables (~650 KB in the wizard's chunk)
// for a prompt utrig never shows. Loaded only through loadPrompts() in src/prompt.ts, as one lazy chunk.
export { default as checkbox } from '@inquirer/checkbox';
export { default as confirm } from '@inquirer/confirm';
export { default as input } from '@inquirer/input';
export { default as password } from '@inquirer/password';
export { default as search } from '@inquirer/search';
export { default as select } from '@inquirer/select';
