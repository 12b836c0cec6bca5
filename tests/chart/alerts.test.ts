/**
 * The PrometheusRule and the Grafana dashboard: promtool checks and unit-tests the alert
 * rules (alerts/alerts.promtool.yaml makes each alert fire and not fire), every dashboard
 * query must parse as PromQL, and every event_pipeline_* metric they use must be one the
 * services declare.
 */
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { byKind, render } from './support/render';
import { CHART, ROOT, run } from './support/tools';

interface Rule {
  alert: string;
  expr: string;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}
interface PromtoolTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const work = mkdtempSync(join(tmpdir(), 'alerts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function renderedGroups(): RuleGroup[] {
  const [rule] = byKind(render({ set: { 'monitoring.create': 'always' } }), 'PrometheusRule');
  if (!rule) throw new Error('the chart rendered no PrometheusRule with monitoring.create=always');
  return (rule.spec as { groups: RuleGroup[] }).groups;
}

function promtool(args: string[]): string {
  const result = run('promtool', args, { cwd: work });
  if (result.status !== 0)
    throw new Error(`promtool ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Metric names the services declare (name: 'event_pipeline_...') in their source. */
function declaredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const service of ['producer', 'consumer']) {
    const dir = join(ROOT, 'services', service);
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      for (const match of readFileSync(join(dir, file), 'utf8').matchAll(
        /name:\s*'(event_pipeline_[a-z0-9_]+)'/g,
      )) {
        names.add(match[1]!);
      }
    }
  }
  return names;
}

function usedMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bevent_pipeline_[a-z0-9_]+/g)].map((match) =>
    match[0].replace(/_(bucket|sum|count)$/, ''),
  );
}

function dashboardExprs(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(join(CHART, 'files', 'dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

describe('alert rules', () => {
  test('promtool check rules accepts the rendered rules', () => {
    writeFileSync(join(work, 'rules.yaml'), stringify({ groups: renderedGroups() }));
    expect(promtool(['check', 'rules', 'rules.yaml'])).toMatch(/SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: each alert fires on its series and stays quiet on the others', () => {
    writeFileSync(join(work, 'rules.yaml'), stringify({ groups: renderedGroups() }));
    copyFileSync(
      join(__dirname, 'alerts', 'alerts.promtool.yaml'),
      join(work, 'alerts.promtool.yaml'),
    );
    expect(promtool(['test', 'rules', 'alerts.promtool.yaml'])).toContain('SUCCESS');
  });

  test('every alert has a case where it fires and a case where it must not', () => {
    const tests = parse(
      readFileSync(join(__dirname, 'alerts', 'alerts.promtool.yaml'), 'utf8'),
    ) as PromtoolTests;
    const cases = tests.tests.flatMap((item) => item.alert_rule_test ?? []);
    for (const { alert } of renderedGroups().flatMap((group) => group.rules)) {
      const mine = cases.filter((item) => item.alertname === alert);
      expect({ alert, fires: mine.some((item) => item.exp_alerts.length > 0) }).toEqual({
        alert,
        fires: true,
      });
      expect({ alert, quiet: mine.some((item) => item.exp_alerts.length === 0) }).toEqual({
        alert,
        quiet: true,
      });
    }
  });

  test('the alerts cover consumer lag, dead letters, producer 5xx and each service down', () => {
    const names = renderedGroups()
      .flatMap((group) => group.rules.map((rule) => rule.alert))
      .sort();
    expect(names).toEqual([
      'EventPipelineConsumerDown',
      'EventPipelineConsumerLagHigh',
      'EventPipelineConsumerLagSecondsHigh',
      'EventPipelineDeadLetters',
      'EventPipelineProducer5xx',
      'EventPipelineProducerDown',
    ]);
  });
});

describe('Grafana dashboard', () => {
  test('every query parses as PromQL (promtool check rules on them as recording rules)', () => {
    const rules = dashboardExprs().map(({ expr }, index) => ({
      record: `dashboard:query_${index}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', 'event-pipeline'),
    }));
    expect(rules.length).toBeGreaterThan(10);
    writeFileSync(
      join(work, 'dashboard-rules.yaml'),
      stringify({ groups: [{ name: 'dashboard', rules }] }),
    );
    expect(promtool(['check', 'rules', 'dashboard-rules.yaml'])).toContain(
      `SUCCESS: ${rules.length} rules found`,
    );
  });

  test('it shows throughput in and out, lag in messages and seconds, latency and errors', () => {
    const exprs = dashboardExprs()
      .map(({ expr }) => expr)
      .join('\n');
    for (const metric of [
      'event_pipeline_produced_messages_total',
      'event_pipeline_consumed_messages_total',
      'event_pipeline_consumer_lag_messages',
      'event_pipeline_consumer_lag_seconds',
      'event_pipeline_http_request_duration_seconds_bucket',
      'event_pipeline_end_to_end_latency_seconds_bucket',
    ]) {
      expect(exprs).toContain(metric);
    }
    expect(exprs).toMatch(/status=~"5\.\."/);
    expect(exprs).toMatch(/result="dead_lettered"/);
  });

  test('alerts and dashboard use only metrics the services declare', () => {
    const declared = declaredMetrics();
    expect(declared.size).toBeGreaterThanOrEqual(10);
    const used = [
      ...renderedGroups().flatMap((group) => group.rules.flatMap((rule) => usedMetrics(rule.expr))),
      ...dashboardExprs().flatMap(({ expr }) => usedMetrics(expr)),
    ];
    expect([...new Set(used)].filter((name) => !declared.has(name))).toEqual([]);
  });
});
