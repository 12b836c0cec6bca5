/** One prom-client registry per service, with Node's default metrics. */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(service: 'producer' | 'consumer'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: `event-pipeline-${service}` });
  collectDefaultMetrics({ register: registry });
  return registry;
}
