import {
  ApplicationCommandOptionType,
  type APIApplicationCommandOption,
  type CommandInteractionOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { isSnowflake } from '../../src/campaigns/channel.ts';
import { OptionValueError } from '../errors.ts';

// Discord's own client only sends what a command registers, but a modified client, a direct API
// call or a replayed gateway event can send anything: the handlers read options as typed, so every
// option is held to its registered declaration before any handler runs.

/** What each option type must hold, for the refusal ("`page` must be a whole number"). */
const TYPE_WORDS: Partial<Record<ApplicationCommandOptionType, string>> = {
  [ApplicationCommandOptionType.String]: 'text',
  [ApplicationCommandOptionType.Integer]: 'a whole number',
  [ApplicationCommandOptionType.Number]: 'a number',
  [ApplicationCommandOptionType.Boolean]: 'true or false',
  [ApplicationCommandOptionType.User]: 'a member',
  [ApplicationCommandOptionType.Channel]: 'a channel',
  [ApplicationCommandOptionType.Role]: 'a role',
  [ApplicationCommandOptionType.Mentionable]: 'a member or a role',
  [ApplicationCommandOptionType.Attachment]: 'an attached file',
};

const number = new Intl.NumberFormat('en-US');

/**
 * Checks the options of a chat input command against what the command registers (`data`, the
 * builder's JSON): the subcommand (group) exists, every required option is there, no option is
 * unknown or given twice, and each value has its registered type, range (`min_value`/`max_value`),
 * length (`min_length`/`max_length`, in code points), choices and, for attachments, a resolved file.
 * @param given - `interaction.options.data`, as discord.js parsed it.
 * @throws OptionValueError naming the command path, the option and its limit.
 */
export function checkOptions(given: readonly CommandInteractionOption[], data: RESTPostAPIChatInputApplicationCommandsJSONBody): void {
  checkLevel(given, data.options ?? [], `/${data.name}`);
}

function checkLevel(given: readonly CommandInteractionOption[], declared: readonly APIApplicationCommandOption[], path: string): void {
  const nested = declared.filter(
    (d) => d.type === ApplicationCommandOptionType.Subcommand || d.type === ApplicationCommandOptionType.SubcommandGroup,
  );
  if (nested.length > 0) {
    // Discord sends exactly one of a command's subcommands (or groups), with its own options inside.
    const [chosen, ...more] = given;
    const match = chosen && nested.find((d) => d.name === chosen.name && d.type === chosen.type);
    if (!match || more.length > 0) {
      throw new OptionValueError(`\`${path}\` takes one of: ${nested.map((d) => `\`${d.name}\``).join(', ')}.`);
    }
    const inner = 'options' in match ? (match.options ?? []) : [];
    checkLevel(chosen.options ?? [], inner as readonly APIApplicationCommandOption[], `${path} ${match.name}`);
    return;
  }
  const seen = new Set<string>();
  for (const option of given) {
    const spec = declared.find((d) => d.name === option.name);
    if (!spec) throw new OptionValueError(`\`${path}\` has no option \`${String(option.name).slice(0, 32)}\`.`);
    if (seen.has(option.name)) throw new OptionValueError(`\`${path}\`: \`${option.name}\` is given twice.`);
    seen.add(option.name);
    checkValue(option, spec, path);
  }
  for (const spec of declared) {
    if (spec.required && !seen.has(spec.name)) throw new OptionValueError(`\`${path}\` needs the \`${spec.name}\` option.`);
  }
}

function checkValue(option: CommandInteractionOption, spec: APIApplicationCommandOption, path: string): void {
  const fail = (limit: string) => new OptionValueError(`\`${path}\`: \`${spec.name}\` must be ${limit}.`);
  const typeWords = TYPE_WORDS[spec.type] ?? 'what the command expects';
  if (option.type !== spec.type) throw fail(typeWords);
  const { value } = option;
  switch (spec.type) {
    case ApplicationCommandOptionType.String: {
      if (typeof value !== 'string') throw fail(typeWords);
      const length = [...value].length;
      const min = spec.min_length ?? 0;
      const max = spec.max_length ?? 6000;
      if (length < min || length > max) {
        throw fail(
          min > 0 ? `${number.format(min)} to ${number.format(max)} characters long` : `at most ${number.format(max)} characters long`,
        );
      }
      break;
    }
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number: {
      const whole = spec.type === ApplicationCommandOptionType.Integer;
      if (typeof value !== 'number' || !(whole ? Number.isSafeInteger(value) : Number.isFinite(value))) throw fail(typeWords);
      const { min_value: min, max_value: max } = spec;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) throw fail(`${typeWords} ${range(min, max)}`);
      break;
    }
    case ApplicationCommandOptionType.Boolean:
      if (typeof value !== 'boolean') throw fail(typeWords);
      break;
    case ApplicationCommandOptionType.Attachment:
      if (!option.attachment) throw fail(typeWords);
      break;
    case ApplicationCommandOptionType.Channel:
      if (typeof value !== 'string' || !isSnowflake(value)) throw fail(typeWords);
      if (spec.channel_types && (!option.channel || !spec.channel_types.includes(option.channel.type as never))) throw fail(typeWords);
      break;
    default:
      if (typeof value !== 'string' || !isSnowflake(value)) throw fail(typeWords);
  }
  const choices = 'choices' in spec ? spec.choices : undefined;
  if (choices && choices.length > 0 && !choices.some((c) => c.value === value)) {
    throw fail(`one of: ${choices.map((c) => `"${c.name}"`).join(', ')}`);
  }
}

/** `from 1 to 50`, `at least 1` or `at most 50`. */
function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `from ${number.format(min)} to ${number.format(max)}`;
  return min !== undefined ? `of at least ${number.format(min)}` : `of at most ${number.format(max!)}`;
}
