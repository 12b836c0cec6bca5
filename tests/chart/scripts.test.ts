/**
 * The shell scripts users run on the kind path (`make prerequisites`, `make forward`,
 * conduktor/scram/enable.sh, the Kafka wait of skaffold's hook) on Linux and on stock macOS:
 * no construct bash 3.2 lacks in any *.sh or Makefile recipe (support/bash32.ts, a static
 * check: no bash 3.2 can be built here), and their behaviour against fake tools.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bash32Findings, makefileRecipes } from './support/bash32';
import { fakeKube, fakeTool, type FakeKube } from './support/fake-kube';
import { gitLsFiles, ROOT } from './support/tools';

describe('the bash 3.2 check', () => {
  // Lines of the scripts as they were before they were made portable, and other bash 4 code.
  test.each([
    ['declare -A PID=() IDENTITY=()', 'associative'],
    ['local -n ref=$1', 'nameref'],
    ['mapfile -t lines < file', 'mapfile'],
    ['readarray lines', 'mapfile'],
    ['echo "${name,,}"', 'case modification'],
    ['echo "${name^^}"', 'case modification'],
    ['echo "${name@Q}"', 'transformation'],
    ['cmd &>>log', '&>>'],
    ['cmd |& tee log', '|&'],
    ['wait -n', 'wait -n'],
    ['[[ -v NAME ]] && echo set', '-v test'],
    ['echo "${a[-1]}"', 'negative subscript'],
    ["printf '%(%s)T' -1", 'printf'],
    ['echo $EPOCHSECONDS', 'EPOCHSECONDS'],
    ['shopt -s globstar', 'shopt'],
  ])('rejects %s', (line, rule) => {
    const findings = bash32Findings(line, false);
    expect(findings.map((finding) => finding.rule).join('\n')).toContain(rule);
  });

  test.each([
    'kc() { kubectl "${CONTEXT_ARGS[@]}" "$@"; }',
    'for entry in "${entries[@]}"; do :; done',
    'supervise "$slot" "${ports[@]}"',
    'echo "${missing[*]}"',
  ])('under set -u, rejects the expansion of a possibly empty array: %s', (line) => {
    expect(
      bash32Findings(line, true)
        .map((finding) => finding.rule)
        .join('\n'),
    ).toMatch(/may be empty under set -u/);
  });

  test.each([
    'kubectl ${ARGS[@]+"${ARGS[@]}"} get pods',
    'echo "${mappings[*]:-}"',
    'echo "${#ports[@]}" "$@" "${slot//[^A-Za-z0-9]/_}"',
    "kc get pods -o jsonpath='{range .items[*]}{.metadata.name}{end}'",
    'declare -a list # ${name,,} in a comment',
    'IFS=. read -r a b c <<<"$1"',
  ])('accepts what bash 3.2 runs: %s', (line) => {
    expect(bash32Findings(line, true)).toEqual([]);
  });

  test('reads Makefile recipes as the shell sees them', () => {
    expect(makefileRecipes('a:\n\t@for x in 1; do \\\n\t  echo $$x; \\\n\tdone\nb: a\n')).toEqual([
      'for x in 1; do echo $x; done',
    ]);
  });
});

describe('every shell script and Makefile recipe runs on bash 3.2', () => {
  const scripts = gitLsFiles().filter((file) => file.endsWith('.sh'));

  test('there are scripts to check', () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'scripts/kind/forward.sh',
        'scripts/kind/prerequisites.sh',
        'scripts/kind/wait-kafka.sh',
        'conduktor/scram/enable.sh',
      ]),
    );
  });

  test.each(scripts)('%s', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(spawnSync('bash', ['-n', join(ROOT, file)]).status).toBe(0);
    expect(bash32Findings(text)).toEqual([]);
  });

  test('Makefile (its SHELLFLAGS set -u)', () => {
    const text = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    expect(text).toMatch(/^\.SHELLFLAGS := -eu/m);
    expect(makefileRecipes(text).flatMap((recipe) => bash32Findings(recipe, true))).toEqual([]);
  });
});

const which = (name: string) =>
  execFileSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();

describe('make prerequisites (scripts/kind/prerequisites.sh)', () => {
  let kube: FakeKube;
  const good = {
    docker: 'Docker version 28.0.1',
    kind: 'kind v0.33.0 go1.25.3 darwin/arm64',
    kubectl: 'Client Version: v1.37.1\nKustomize Version: v5.7.1',
    helm: 'v4.3.1',
    skaffold: 'v2.24.0',
  };
  beforeEach(() => (kube = fakeKube()));
  afterEach(() => kube.remove());

  function check(tools: Record<string, string | undefined>) {
    for (const [name, output] of Object.entries(tools))
      if (output !== undefined) fakeTool(kube, name, output);
    // Only the fake tools and the basic utilities the script uses: a kind or skaffold of
    // this machine must not stand in for a missing one.
    for (const utility of ['cat', 'grep', 'head'])
      symlinkSync(which(utility), join(kube.bin, utility));
    return spawnSync(which('bash'), [join(ROOT, 'scripts', 'kind', 'prerequisites.sh')], {
      encoding: 'utf8',
      env: { PATH: kube.bin, PREREQUISITES_SKIP_DOCKER: '1' },
    });
  }

  test('accepts the versions the kind path is tested with', () => {
    const result = check(good);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /kind 0\.33\.0, kubectl 1\.37\.1, helm 4\.3\.1, skaffold 2\.24\.0/,
    );
    expect(result.status).toBe(0);
  });

  test.each([
    ['skaffold 2.18', { skaffold: 'v2.18.0' }, /skaffold: 2\.18\.0 is older than 2\.19\.0/],
    ['skaffold 2.16', { skaffold: 'v2.16.1' }, /skaffold: 2\.16\.1 is older than 2\.19\.0/],
    ['Helm 3', { helm: 'v3.19.0+g1234' }, /helm: 3\.19\.0 is older than 4\.0\.0/],
    [
      'kind 0.29',
      { kind: 'kind v0.29.0 go1.24 linux/amd64' },
      /kind: 0\.29\.0 is older than 0\.33\.0/,
    ],
    [
      'kubectl 1.33',
      { kubectl: 'Client Version: v1.33.2' },
      /kubectl: 1\.33\.2 is older than 1\.36\.0/,
    ],
    [
      'kubectl 1.40',
      { kubectl: 'Client Version: v1.40.0' },
      /kubectl: 1\.40\.0 is 1\.39\.0 or newer/,
    ],
    ['no skaffold', { skaffold: undefined }, /skaffold: missing/],
  ] as const)('refuses %s', (_label, change, message) => {
    const tools: Record<string, string | undefined> = { ...good, ...change };
    const result = check(tools);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});

test('make tools installs only what the kind path needs (Helm), which works on macOS too', () => {
  const printed = execFileSync('make', ['-n', 'tools'], { cwd: ROOT, encoding: 'utf8' });
  expect(printed.trim()).toBe('bash scripts/tools/install.sh helm');
});

describe('conduktor/scram/enable.sh', () => {
  let kube: FakeKube;
  beforeEach(() => {
    kube = fakeKube();
    kube.write('kafka-states', '4 3 True\n4 4 True\n');
    kube.write('kafka-listeners', 'plain scram host docker dockerscram');
    kube.write('secret-password', 's3cret');
  });
  afterEach(() => kube.remove());

  const run = () =>
    spawnSync('bash', [join(ROOT, 'conduktor', 'scram', 'enable.sh')], {
      encoding: 'utf8',
      env: kube.env({ KUBE_CONTEXT: 'kind-test', CONDUKTOR_ENV_FILE: join(kube.state, '.env') }),
      timeout: 30_000,
    });

  test('leaves the Kafka resource alone: waits for it, creates the KafkaUser, writes .env', () => {
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const calls = kube.lines('calls.log');
    expect(calls.every((call) => call.startsWith('--context kind-test '))).toBe(true);
    // Nothing that changes the Kafka object (skaffold's apply would undo it on `make up`).
    expect(
      calls.filter((call) => / (patch|edit|replace|apply|label|annotate) /.test(call)),
    ).toEqual([expect.stringMatching(/ apply -f .*conduktor\/scram\/kafka-user\.yaml$/)]);
    expect(kube.lines('served.log').at(-1)).toBe('4 4 True');
    const env = readFileSync(join(kube.state, '.env'), 'utf8');
    expect(env).toMatch(/^COMPOSE_FILE=compose\.yaml:compose\.scram\.yaml$/m);
    expect(env).toMatch(/^KAFKA_SASL_USERNAME=conduktor$/m);
    expect(env).toMatch(/^KAFKA_SASL_PASSWORD=s3cret$/m);
  });

  test('without the dockerscram listener it says to run make up, and changes nothing', () => {
    kube.write('kafka-listeners', 'plain scram host docker');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no listener dockerscram: run `make up`/);
    expect(kube.lines('calls.log').filter((call) => !/ get /.test(call))).toEqual([]);
  });
});
