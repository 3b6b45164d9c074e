// `logwire serve` (the service on configured sources) and `logwire demo`
// (the service on a built-in demo source: what `npm start` runs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createError, ErrorCodes, LogwireError } from '../errors.js';
import { loadConfigFile, loadTokenFile, parseSourceFlag, parseTokenFlag, SERVICE_DEFAULTS, type ServiceOptions } from '../service/config.js';
import { startDemoSource } from '../service/demo-source.js';
import { startService, type Service } from '../service/server.js';
import { parseFlags } from './args.js';
import { runDemo } from './demo.js';

export const SERVE_HELP = `logwire serve: follow log files and stream parsed records over WebSocket

Usage:
  logwire serve [--config FILE] [--source NAME=GLOB[,GLOB…][,format=F][,tz=Z][,policy=P][,root=DIR]…]… [options]
  logwire demo [--port N]     the service on a demo log that grows and rotates (npm start)
  logwire demo --parse        write a 500,000-line demo log, parse it, print records and the speed

Sources (at least one, from --source or the config file):
  NAME=GLOB[,GLOB…][,format=F][,tz=Z][,policy=P][,root=DIR…][,multiline=RULE]
                      follow the files GLOB matches (wildcards * ? [..] in the
                      last path component); format auto|classic|logfmt|json|
                      clf|combined|apache_error|syslog|pattern:PATTERN
                      (default auto; in a pattern, and in multiline=pattern:,
                      a comma is the pattern's unless a setting follows it:
                      format=pattern:%{@ts:%H:%M:%S,%f} %{@msg},tz=UTC),
                      tz a zone (default UTC), policy for a
                      live subscriber that cannot keep up: block (default),
                      drop or disconnect; root a directory its files must
                      really be under, symlinks resolved (repeatable; default
                      the directories of its globs): others are not opened;
                      multiline indent|timestamp|pattern:P joins continuation
                      lines into records (logwire parse --help); a file's last record is
                      held until the next one starts or the file is quiet for
                      ${SERVICE_DEFAULTS.multilineFlushMs} ms ("multiline":{"start","maxLines","maxBytes","flushMs"}
                      in the config file)
  --config FILE       JSON: {"host","port","sources":[{"name","globs":[…],
                      "format","tz","policy","roots":[…],"multiline"}], "tokens":[{"token",
                      "sources":[…]|"*"}], "origins":[…], "tls":{"cert","key"},
                      and the knobs below}

Security (docs/service.md, "Security"; tokens and origins add to the config file's):
  --token TOKEN[:SOURCE,…]  a bearer token (16+ characters A-Z a-z 0-9 -._~+/=)
                      that may read those sources (default all); repeatable.
                      With no token anyone who reaches the port reads every
                      source: keep the default host 127.0.0.1 then
  --token-file FILE   tokens, one TOKEN[:SOURCE,…] a line (# comments); keeps
                      them out of the process list
  --origin ORIGIN     a browser origin allowed besides the service's own, like
                      https://logs.example.com (repeatable)
  --tls-cert FILE     PEM certificate: serve https:// and wss:// (with --tls-key)
  --tls-key FILE      PEM private key
  --max-connections N   WebSocket connections at most (default ${SERVICE_DEFAULTS.maxConnections}; more get 503)
  --max-subscriptions N subscriptions per connection (default ${SERVICE_DEFAULTS.maxSubscriptions})
  --message-rate N    messages a connection may send per second (default ${SERVICE_DEFAULTS.messageRate})
  --message-burst N   ...and at once (default ${SERVICE_DEFAULTS.messageBurst}, or the rate if higher)
  --per-message-deflate  compress frames (default off)

Options (flags override the config file):
  --host H            address to listen on (default ${SERVICE_DEFAULTS.host})
  --port N            port for HTTP and WebSocket (default ${SERVICE_DEFAULTS.port}; 0 = any free port)
  --workers N         worker threads for catching up on large files (default: one per core)
  --batch-bytes N     most record bytes in one frame (default ${SERVICE_DEFAULTS.batchBytes})
  --batch-delay-ms N  wait this long after a change to gather lines (default ${SERVICE_DEFAULTS.batchDelayMs})
  --queue-bytes N     a subscriber's send queue (default ${SERVICE_DEFAULTS.queueBytes})
  --partial-flush-ms N  send a last line without LF after this long (default ${SERVICE_DEFAULTS.partialFlushMs})
  --poll-ms N         polling period beside inotify (default ${SERVICE_DEFAULTS.pollMs})
  --ping-ms N         keepalive ping period (default ${SERVICE_DEFAULTS.pingMs})
  --checkpoint FILE   keep durable subscriptions' acknowledged positions in FILE
                      (a write-ahead log); without it "durable" is refused
  --checkpoint-ms N   commit (fsync) the checkpoint every N ms (default ${SERVICE_DEFAULTS.checkpointMs})
  --rotate-wait-ms N  keep reading a file renamed away or deleted this long after its end (default ${SERVICE_DEFAULTS.rotateWaitMs})
  -h, --help          this help

Endpoints: / (live viewer), /ws (WebSocket), /metrics, /stats, /healthz,
/report, /report.hlog; with tokens, all but / and /healthz need one
(open the viewer as /?token=TOKEN). The protocol is in docs/service.md.
`;

const KNOBS: Record<string, keyof ServiceOptions> = {
  workers: 'workers', 'batch-bytes': 'batchBytes', 'batch-delay-ms': 'batchDelayMs', 'queue-bytes': 'queueBytes',
  'partial-flush-ms': 'partialFlushMs', 'poll-ms': 'pollMs', 'ping-ms': 'pingMs', 'rotate-wait-ms': 'rotateWaitMs', 'checkpoint-ms': 'checkpointMs', port: 'port',
  'max-connections': 'maxConnections', 'max-subscriptions': 'maxSubscriptions', 'message-rate': 'messageRate', 'message-burst': 'messageBurst',
};

function usage(message: string): never {
  throw createError(ErrorCodes.USAGE, message);
}

function parse(args: string[], demo: boolean) {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...Object.fromEntries(Object.keys(KNOBS).map((k) => [k, { type: 'string' as const }])),
  };
  if (demo) options.parse = { type: 'boolean' };
  else {
    options.config = { type: 'string' };
    options.source = { type: 'string', multiple: true };
    options.token = { type: 'string', multiple: true };
    options['token-file'] = { type: 'string', multiple: true };
    options.origin = { type: 'string', multiple: true };
    options['tls-cert'] = { type: 'string' };
    options['tls-key'] = { type: 'string' };
    options['per-message-deflate'] = { type: 'boolean' };
    options.checkpoint = { type: 'string' };
  }
  const parsed = parseFlags(args, options, `logwire ${demo ? 'demo' : 'serve'} --help`);
  if (parsed.positionals.length) usage(`unexpected argument ${JSON.stringify(parsed.positionals[0])} (see logwire ${demo ? 'demo' : 'serve'} --help)`);
  return parsed;
}

function applyFlags(values: Record<string, unknown>, into: ServiceOptions): void {
  if (values.host !== undefined) into.host = values.host as string;
  if (values.checkpoint !== undefined) into.checkpoint = values.checkpoint as string;
  for (const [flag, key] of Object.entries(KNOBS)) {
    const v = values[flag] as string | undefined;
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) usage(`--${flag} must be a whole number; got ${JSON.stringify(v)}`);
    (into as unknown as Record<string, number>)[key] = Number(v);
  }
}

/** The security flags add to what the config file says (tokens, origins) or replace it (tls). */
function applySecurityFlags(values: Record<string, unknown>, into: ServiceOptions): void {
  const tokens = [
    ...((values['token-file'] as string[] | undefined) ?? []).flatMap((f) => loadTokenFile(f)),
    ...((values.token as string[] | undefined) ?? []).map((t) => parseTokenFlag(t)),
  ];
  if (tokens.length) into.tokens = [...(Array.isArray(into.tokens) ? into.tokens : []), ...tokens];
  const origins = values.origin as string[] | undefined;
  if (origins) into.origins = [...(Array.isArray(into.origins) ? into.origins : []), ...origins];
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) usage('--tls-cert and --tls-key go together');
  if (cert !== undefined && key !== undefined) into.tls = { cert, key };
  if (values['per-message-deflate']) into.perMessageDeflate = true;
}

const FLAGS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(KNOBS).map(([f, k]) => [k, `--${f}`])),
  origins: '--origin', 'tls.cert': '--tls-cert', 'tls.key': '--tls-key',
};

/** Run until SIGINT or SIGTERM, then close cleanly. */
async function runUntilSignal(service: Service, cleanup: () => Promise<void> = async () => {}): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('logwire: stopping\n');
  await service.close();
  await cleanup();
}

function banner(service: Service, sources: string[]): string {
  const ws = service.url.replace(/^http/, 'ws');
  return [
    `logwire serve: listening on ${service.url} (WebSocket ${ws}/ws)`,
    `  viewer   ${service.url}/`,
    `  metrics  ${service.url}/metrics   stats ${service.url}/stats   report ${service.url}/report`,
    service.options.tokens.length
      ? `  try      node bin/logwire.js tail '${ws}/ws?token=TOKEN' ${sources[0]} --from start\n  tokens   needed everywhere but / and /healthz: "Authorization: Bearer TOKEN" or ?token=TOKEN`
      : `  try      node bin/logwire.js tail ${ws} ${sources[0]} --from start`,
    '',
  ].join('\n');
}

/** Start the service; a setting's name in an error becomes its flag when the flag set it (`given`). */
async function start(options: ServiceOptions, given: Record<string, unknown> = {}): Promise<Service> {
  try {
    return await startService(options);
  } catch (err) {
    if (err instanceof LogwireError && err.code === ErrorCodes.INVALID_OPTION) {
      const fromFlag = (k: string) => FLAGS[k] !== undefined && given[FLAGS[k].slice(2)] !== undefined;
      throw createError(err.code, err.message.replace(/^([\w.]+)(?:\[\d+\])? must/, (m, k: string) => (fromFlag(k) ? `${FLAGS[k]} must` : m)));
    }
    throw err;
  }
}

export async function runServe(args: string[]): Promise<void> {
  const { values } = parse(args, false);
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const options: ServiceOptions = values.config ? loadConfigFile(values.config as string) : { sources: [] };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) usage(`${values.config}: the config must be a JSON object`);
  options.sources ??= [];
  for (const spec of (values.source as string[] | undefined) ?? []) {
    if (!Array.isArray(options.sources)) break;
    options.sources.push(parseSourceFlag(spec));
  }
  if (Array.isArray(options.sources) && options.sources.length === 0) {
    usage('serve needs at least one source: --source NAME=GLOB or --config FILE (or try "logwire demo"); see logwire serve --help');
  }
  applyFlags(values, options);
  applySecurityFlags(values, options);
  const service = await start(options, values);
  process.stdout.write(banner(service, service.options.sources.map((s) => s.name)));
  await runUntilSignal(service);
}

export async function runServiceDemo(args: string[]): Promise<void> {
  const { values } = parse(args, true);
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  if (values.parse) {
    if (args.length > 1) usage('demo --parse takes no other options');
    return runDemo([]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'logwire-demo-'));
  const demo = startDemoSource({ dir, linesPerSecond: 200, rotateBytes: 256 << 10, keep: 2 });
  const options: ServiceOptions = { sources: [{ name: 'demo', globs: [join(dir, 'demo.log')], format: 'classic' }] };
  applyFlags(values, options);
  let service: Service;
  try {
    service = await start(options, values);
  } catch (err) {
    // The default port is taken: the demo is happy on any port.
    if (values.port !== undefined || !(err instanceof LogwireError) || err.code !== ErrorCodes.USAGE) {
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    service = await start({ ...options, port: 0 }, values);
  }
  process.stdout.write(
    `logwire demo: a generator appends ~200 lines/s to ${demo.path} and rotates it every 256 KiB.\n` +
    banner(service, ['demo']) + 'Stop with Ctrl-C.\n',
  );
  await runUntilSignal(service, async () => {
    await demo.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
}
