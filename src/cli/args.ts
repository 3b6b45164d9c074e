// Command-line flags for every logwire command: node's parseArgs, with its
// complaints turned into one-line usage errors that point at the help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createError, ErrorCodes } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export function parseFlags<const O extends Options>(args: string[], options: O, help: string): Parsed<O> {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains itself over several lines; the first says what is wrong.
    const first = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
    throw createError(ErrorCodes.USAGE, `${first} (see ${help})`);
  }
}

/**
 * `--tz -05:00` and `--workers -1` as `--tz=-05:00`: parseArgs takes a value
 * that starts with a dash for a flag of its own. A dash and a digit is a value.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
    if (args[i] === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}
