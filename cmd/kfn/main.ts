// The kfn CLI. `kfn dev` runs the platform; the resource commands talk to it or to a cluster.
import { applyCommand, deleteCommand, getCommand } from './commands/resources.js';
import { devCommand, devUsage } from './commands/dev.js';
import { dlqCommand, dlqUsage } from './commands/dlq.js';
import { invokeCommand } from './commands/invoke.js';
import { logsCommand, logsUsage } from './commands/logs.js';
import { backendUsage } from './choose.js';
import { publishCommand, publishUsage } from './commands/publish.js';
import { CliError } from './client.js';

const usage = `kfn — serverless functions with scale to zero

Usage:
  ${devUsage.split('\n').join('\n  ')}
  kfn apply -f FILE|DIR|- [-n NS] [--force-conflicts]   create or update Functions and Triggers
  kfn get [triggers] [NAME] [-n NS | -A] [-o json|yaml]   list functions (or triggers), or one in detail
  kfn delete [trigger] NAME [-n NS]   delete a function (its replicas drain first) or a trigger
  kfn invoke NAME [-n NS] [--path /p] [-d DATA] [-X METHOD] [-H "K: V"] [-i]
  ${logsUsage}
  ${publishUsage}
              publish a CloudEvent to a subject and wait for JetStream to store it
  ${dlqUsage.split('\n').join('\n  ')}

apply, get, delete, invoke and logs work against kfn dev or a cluster.
${backendUsage}
kfn dev is found through KFN_ADMIN or the state file it writes in $KFN_HOME (default ~/.kfn).
publish and dlq find NATS through --nats URL, NATS_URL, that state file, or nats://127.0.0.1:4222.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  dev: devCommand,
  apply: applyCommand,
  get: getCommand,
  delete: deleteCommand,
  invoke: invokeCommand,
  logs: logsCommand,
  publish: publishCommand,
  dlq: dlqCommand,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${name}"; run \`kfn help\``);
  await command(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError || (err instanceof Error && err.name === 'TypeError' && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`kfn: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
