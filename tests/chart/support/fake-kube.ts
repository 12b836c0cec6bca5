/**
 * A fake `kubectl` (and other commands) on PATH for the tests of the kind-path scripts and
 * skaffold's hooks. It logs every call and answers from files in a state folder:
 *   kafka-states     lines "generation observedGeneration ReadyStatus" served one per `get`
 *                    (the last one repeats), for the jsonpath the wait script asks;
 *   kafka-listeners  the names of the Kafka resource's listeners;
 *   secret-password  the password in the KafkaUser's Secret.
 * `wait` succeeds at once, as kubectl does when a condition is already true.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FAKE_KUBECTL = `#!/usr/bin/env bash
state="$FAKE_KUBE_STATE"
printf '%s\\n' "$*" >>"$state/calls.log"
[[ "$1" == --context ]] && shift 2
[[ "$1" == -n ]] && shift 2
case "$1" in
  create) printf 'apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: %s\\n' "$3" ;;
  apply) [[ "$3" == - ]] && cat >"$state/applied-stdin.yaml"; exit 0 ;;
  wait | patch) exit 0 ;;
  get)
    case "$2" in
      kafka/*)
        [[ -f "$state/kafka-states" ]] || exit 1
        if [[ "$*" == *observedGeneration* ]]; then
          n=$(($(cat "$state/served" 2>/dev/null || echo 0) + 1))
          echo "$n" >"$state/served"
          total=$(grep -c "" "$state/kafka-states")
          ((n > total)) && n=$total
          line=$(sed -n "\${n}p" "$state/kafka-states")
          echo "$line" >>"$state/served.log"
          printf '%s' "$line"
        elif [[ "$*" == *listeners* ]]; then
          cat "$state/kafka-listeners"
        fi ;;
      secret/*) printf '%s' "$(cat "$state/secret-password")" | base64 ;;
      *) exit 1 ;;
    esac ;;
  *) exit 1 ;;
esac
`;

export interface FakeKube {
  bin: string;
  state: string;
  write(name: string, text: string): void;
  read(name: string): string;
  lines(name: string): string[];
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  remove(): void;
}

export function fakeKube(): FakeKube {
  const state = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  const bin = join(state, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL);
  chmodSync(join(bin, 'kubectl'), 0o755);
  const read = (name: string) =>
    existsSync(join(state, name)) ? readFileSync(join(state, name), 'utf8') : '';
  return {
    bin,
    state,
    write: (name, text) => writeFileSync(join(state, name), text),
    read,
    lines: (name) => read(name).split('\n').filter(Boolean),
    env: (extra = {}) => ({
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      FAKE_KUBE_STATE: state,
      WAIT_POLL_SECONDS: '0.05',
      ...extra,
    }),
    remove: () => rmSync(state, { recursive: true, force: true }),
  };
}

/** An executable in the fake's bin that prints `output` (for version checks). */
export function fakeTool(kube: FakeKube, name: string, output: string): void {
  const file = join(kube.bin, name);
  writeFileSync(file, `#!/bin/sh\ncat <<'EOF'\n${output}\nEOF\n`);
  chmodSync(file, 0o755);
}
