import { Registry } from 'prom-client';
import { createProducerMetrics } from '../../services/producer/metrics';

test('per-request series add up under their labels, bound once and reused', async () => {
  const registry = new Registry();
  const metrics = createProducerMetrics(registry, { topics: ['events'] });
  metrics.observeHttp('POST', '/v1/topics/:topic/messages', 200, 0.003);
  metrics.observeHttp('POST', '/v1/topics/:topic/messages', 200, 0.02);
  metrics.observeHttp('POST', '/v1/topics/:topic/messages', 503, 0.5);
  metrics.observeHttp('BREW', 'unmatched', 404, 0.001);
  metrics.countProduced('events', 'acked', 5);
  metrics.countProduced('events', 'acked', 2);
  metrics.countProduced('events', 'rejected', 1);
  const text = await registry.metrics();
  const route = 'route="/v1/topics/:topic/messages"';
  expect(text).toContain(
    `event_pipeline_http_requests_total{method="POST",${route},status="200"} 2`,
  );
  expect(text).toContain(
    `event_pipeline_http_requests_total{method="POST",${route},status="503"} 1`,
  );
  expect(text).toContain(
    'event_pipeline_http_requests_total{method="OTHER",route="unmatched",status="404"} 1',
  );
  expect(text).toContain(
    `event_pipeline_http_request_duration_seconds_count{method="POST",${route}} 3`,
  );
  expect(text).toContain(
    `event_pipeline_http_request_duration_seconds_bucket{le="0.005",method="POST",${route}} 1`,
  );
  expect(text).toContain(
    `event_pipeline_http_request_duration_seconds_sum{method="POST",${route}} 0.523`,
  );
  expect(text).toContain('event_pipeline_produced_messages_total{topic="events",result="acked"} 7');
  expect(text).toContain(
    'event_pipeline_produced_messages_total{topic="events",result="rejected"} 1',
  );
  expect(text).toContain(
    'event_pipeline_produced_messages_total{topic="events",result="failed"} 0',
  );
});
