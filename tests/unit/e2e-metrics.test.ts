import { matching, parsePrometheus, seriesNames, sum } from '../e2e/support/metrics';

const TEXT = `# HELP event_pipeline_consumed_messages_total Messages consumed
# TYPE event_pipeline_consumed_messages_total counter
event_pipeline_consumed_messages_total{topic="events",result="processed"} 120
event_pipeline_consumed_messages_total{topic="events",result="dead_lettered"} 2
event_pipeline_consumer_lag_messages{topic="events",partition="0"} 3
event_pipeline_consumer_lag_messages{topic="events",partition="1"} 0
event_pipeline_end_to_end_latency_seconds_bucket{topic="events",le="+Inf"} 122
odd_labels{path="a \\"quoted\\" \\\\ value",empty=""} 1.5e3 1700000000000
nodejs_heap_size_total_bytes 1.2e7
`;

describe('e2e metrics parsing', () => {
  const samples = parsePrometheus(TEXT);

  test('reads names, labels (with escapes) and values, skipping comments and timestamps', () => {
    expect(samples).toHaveLength(7);
    expect(matching(samples, 'odd_labels')[0]).toEqual({
      name: 'odd_labels',
      labels: { path: 'a "quoted" \\ value', empty: '' },
      value: 1500,
    });
    expect(
      matching(samples, 'event_pipeline_end_to_end_latency_seconds_bucket')[0]?.labels.le,
    ).toBe('+Inf');
    expect(seriesNames(samples).has('nodejs_heap_size_total_bytes')).toBe(true);
  });

  test('sums the samples that match the labels', () => {
    expect(sum(samples, 'event_pipeline_consumed_messages_total', { result: 'processed' })).toBe(
      120,
    );
    expect(sum(samples, 'event_pipeline_consumed_messages_total')).toBe(122);
    expect(sum(samples, 'event_pipeline_consumer_lag_messages', { topic: 'events' })).toBe(3);
    expect(sum(samples, 'missing_total')).toBe(0);
  });

  test('refuses what is not the text format', () => {
    expect(() => parsePrometheus('not a metric line at all {')).toThrow(/not a Prometheus sample/);
    expect(() => parsePrometheus('x{a="1} 2')).toThrow();
  });
});
