import { ApplicationCommandOptionType as T, type APIApplicationCommandOption, type CommandInteractionOption } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { checkOptions } from '../../../commands/bot/option-check.ts';
import { OptionValueError } from '../../../commands/errors.ts';
import { commands } from '../../../commands/index.ts';

// Every option of every slash command, as registered, drives the check: nothing here names one.

type Leaf = Exclude<APIApplicationCommandOption, { type: T.Subcommand | T.SubcommandGroup }>;

const commandJson = [...commands.values()].map((c) => c.data.toJSON());
const subcommands = commandJson.flatMap((command) =>
  (command.options ?? [])
    .filter((o) => o.type === T.Subcommand)
    .map((sub) => ({ command, sub, options: ('options' in sub ? (sub.options ?? []) : []) as Leaf[] })),
);

/** A value the option accepts. */
function valid(spec: Leaf): CommandInteractionOption {
  const base = { name: spec.name, type: spec.type };
  const choice = 'choices' in spec ? spec.choices?.[0]?.value : undefined;
  switch (spec.type) {
    case T.String:
      return { ...base, value: (choice as string | undefined) ?? 'x'.repeat(Math.max(1, spec.min_length ?? 1)) };
    case T.Integer:
    case T.Number:
      return { ...base, value: (choice as number | undefined) ?? spec.min_value ?? 1 };
    case T.Boolean:
      return { ...base, value: true };
    case T.Attachment:
      return { ...base, value: '1', attachment: {} as never };
    default:
      return { ...base, value: '123456789012345678' };
  }
}

function run(command: (typeof commandJson)[number], sub: string, options: CommandInteractionOption[]) {
  return () => checkOptions([{ name: sub, type: T.Subcommand, options }], command);
}

describe.each(subcommands.map((s) => [`/${s.command.name} ${s.sub.name}`, s] as const))('%s', (_path, { command, sub, options }) => {
  const required = options.filter((o) => o.required).map(valid);

  it('accepts its required options with valid values, and every option at once', () => {
    expect(run(command, sub.name, required)).not.toThrow();
    expect(run(command, sub.name, options.map(valid))).not.toThrow();
  });

  it.each(options.map((o) => [o.name, o] as const))(
    'refuses `%s` of another type, missing when required, or out of range',
    (name, spec) => {
      const others = required.filter((o) => o.name !== name);
      const wrongType = spec.type === T.String ? T.Integer : T.String;
      const wrong = { name, type: wrongType, value: wrongType === T.String ? 'x' : 1 };
      expect(run(command, sub.name, [...others, wrong])).toThrow(OptionValueError);
      expect(run(command, sub.name, [...others, wrong])).toThrow(`\`${name}\` must be`);
      if (spec.required) expect(run(command, sub.name, others)).toThrow(`needs the \`${name}\` option`);
      if (spec.type === T.Integer || spec.type === T.Number) {
        if (spec.max_value !== undefined)
          expect(run(command, sub.name, [...others, { ...valid(spec), value: spec.max_value + 1 }])).toThrow(OptionValueError);
        if (spec.min_value !== undefined)
          expect(run(command, sub.name, [...others, { ...valid(spec), value: spec.min_value - 1 }])).toThrow(OptionValueError);
        expect(run(command, sub.name, [...others, { ...valid(spec), value: Number.NaN }])).toThrow(OptionValueError);
      }
      if (spec.type === T.String && spec.max_length !== undefined) {
        expect(run(command, sub.name, [...others, { ...valid(spec), value: 'x'.repeat(spec.max_length + 1) }])).toThrow(OptionValueError);
      }
    },
  );

  it('refuses an option it does not register', () => {
    expect(run(command, sub.name, [...required, { name: 'not-an-option', type: T.String, value: 'x' }])).toThrow('has no option');
  });
});

it('refuses a subcommand that is not registered, or two at once', () => {
  const [command] = commandJson;
  expect(() => checkOptions([{ name: 'nope', type: T.Subcommand, options: [] }], command!)).toThrow('takes one of');
  expect(() =>
    checkOptions(
      [
        { name: 'usage', type: T.Subcommand, options: [] },
        { name: 'usage', type: T.Subcommand, options: [] },
      ],
      command!,
    ),
  ).toThrow('takes one of');
});
