/** Command-line options the demos share. */

export interface DemoOptions {
  /** The CI form: shorter phases, same steps. Also DEMO_SHORT=1. */
  short: boolean;
  /** First Kafka client port (three brokers use it and the next two). Default: free ports. */
  port: number | undefined;
  /** The producer API's port; management ports follow it. Default: free ports. */
  apiPort: number | undefined;
  brokers: 1 | 3;
}

export function parseDemoArgs(
  argv: readonly string[],
  usage: string,
  defaults: { brokers: 1 | 3; brokerChoice: boolean },
  env: NodeJS.ProcessEnv = process.env,
): DemoOptions {
  const options: DemoOptions = {
    short: env.DEMO_SHORT === '1' || env.DEMO_SHORT === 'true',
    port: undefined,
    apiPort: undefined,
    brokers: defaults.brokers,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--short') {
      options.short = true;
    } else if ((flag === '--port' || flag === '--api-port') && value && /^\d{1,5}$/.test(value)) {
      options[flag === '--port' ? 'port' : 'apiPort'] = Number(value);
      i += 1;
    } else if (defaults.brokerChoice && flag === '--brokers' && (value === '1' || value === '3')) {
      options.brokers = value === '3' ? 3 : 1;
      i += 1;
    } else if (flag === '--help' || flag === '-h') {
      throw new UsageError(usage);
    } else {
      throw new UsageError(`unknown or incomplete option "${flag ?? ''}"\n${usage}`);
    }
  }
  return options;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
