// The kfn CLI. `kfn dev` runs the platform; the other commands talk to it.
import { applyCommand, deleteCommand, getCommand } from './commands/resources.js';
import { devCommand, devUsage } from './commands/dev.js';
import { dlqCommand, dlqUsage } from './commands/dlq.js';
import { invokeCommand } from './commands/invoke.js';
import { publishCommand, publishUsage } from './commands/publish.js';
import { CliError } from './client.js';

const usage = `kfn — serverless functions with scale to zero

Usage:
  ${devUsage.split('\n').join('\n  ')}
  kfn apply -f FILE|DIR|-     create or update resources in the running kfn dev
  kfn get [triggers] [NAME] [-n NS] [-o json|yaml]   list functions (or triggers), or one in detail
  kfn delete [trigger] NAME [-n NS]   delete a function (its replicas drain first) or a trigger
  kfn invoke NAME [-n NS] [--path /p] [-d DATA] [-X METHOD] [-H "K: V"] [-i]
  ${publishUsage}
              publish a CloudEvent to a subject and wait for JetStream to store it
  ${dlqUsage.split('\n').join('\n  ')}

The commands other than dev find kfn dev through --admin URL, KFN_ADMIN, or the state
file kfn dev writes in $KFN_HOME (default ~/.kfn). publish and dlq find NATS through
--nats URL, NATS_URL, that state file, or nats://127.0.0.1:4222.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  dev: devCommand,
  apply: applyCommand,
  get: getCommand,
  delete: deleteCommand,
  invoke: invokeCommand,
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
