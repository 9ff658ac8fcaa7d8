/**
 * The command line's shared parts: every subcommand parses its options with
 * util.parseArgs through parseOptions(), so that they all word their usage
 * errors the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './run';

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs's errors, in this command line's words. */
export function usageError(e: unknown): UsageError {
  const err = e as NodeJS.ErrnoException;
  const option = /'(-{1,2}[^' <]+)/.exec(err.message ?? '')?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`Unknown option ${option}.`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return new UsageError(`${option} takes no value.`);
      if (/ambiguous/.test(err.message)) return new UsageError(`${option} needs a value (for a value that starts with "-", write ${option}=VALUE).`);
      return new UsageError(`${option} needs a value.`);
    default:
      return new UsageError(err.message ?? String(e));
  }
}

/** Options and positional arguments (strict: an unknown option is a UsageError). */
export function parseOptions<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(e);
  }
}
