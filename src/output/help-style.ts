import { Help, type Command, type Option } from 'commander';
import { UsageError } from '../errors.js';

/** The heading under which a subcommand's help lists the global flags (gh calls them INHERITED FLAGS). */
export const INHERITED_HEADING = 'Inherited flags:';

/** Global flags that mean nothing after a command word. */
const NOT_INHERITED = new Set(['--version']);

/**
 * Help as utrig shows it, applied to every command of the tree once it is declared:
 * - a subcommand's help lists the global flags under "Inherited flags:", leaving out those the
 *   command declares itself (login's and the emulator's own --account-sid);
 * - bare `utrig` prints the help on stdout and exits 0, as gh does: asking for nothing is not an error;
 * - `utrig help <command…>` shows that command's help; an unknown one is a usage error (exit 2).
 */
export function styleHelp(program: Command): void {

  // commander's help command lists itself but shows general help for an unknown word and exits 0;
  // ours, found first, does the work, while commander's entry keeps its line in the command list
  program.helpCommand('help [command...]', 'show help for a command');
  program
    .command('help', { hidden: true })
    .argument('[command...]', 'the command (and subcommand) to describe')
    .summary('show help for a command')
    .description('Show help for utrig, or for a command: `utrig help profiles use`.')
    .action((words: string[]) => {
      let cmd: Command = program;
      for (const w of words) {
        const next = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
        if (!next || next.name() === 'help') {
          const where = cmd === program ? 'utrig' : `utrig ${cmd.name()}`;
          throw new UsageError(`unknown command "${w}" for ${where}`, { hint: `run \`${where} --help\` for the list of commands` });
        }
        cmd = next;
      }
      cmd.outputHelp();
    });

  // No command word: help on stdout, exit 0. Words that are no command still fail as commander says.
  program.allowExcessArguments(true);
  program.action(function (this: Command) {
    // commander's own unknown-command error (with its "did you mean"); the method is not in its typings
    if (this.args.length > 0) (this as unknown as { unknownCommand(): never }).unknownCommand();
    else this.outputHelp();
  });

  const walk = (cmd: Command) => {
    cmd.configureHelp({
      showGlobalOptions: true,
      visibleGlobalOptions(this: Help, c: Command): Option[] {
        const own = new Set(c.options.map((o) => o.long));
        return Help.prototype.visibleGlobalOptions.call(this, c).filter((o) => !own.has(o.long) && !NOT_INHERITED.has(o.long ?? ''));
      },
      formatItemList(this: Help, heading: string, items: string[], helper: Help): string[] {
        return Help.prototype.formatItemList.call(this, heading === 'Global Options:' ? INHERITED_HEADING : heading, items, helper);
      },
    });
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
}
