// Command-line flags for every logwire command: node's parseArgs, with its
// complaints turned into one-line usage errors that point at the help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createError, ErrorCodes } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export function parseFlags<const O extends Options>(args: string[], options: O, help: string): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw createError(ErrorCodes.USAGE, `${(err as Error).message.replace(/\. To specify a positional argument.*$/, '')} (see ${help})`);
  }
}
