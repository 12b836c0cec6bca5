/**
 * EVENT_PIPELINE_SKIP_DOCKER=1 skips the container tests (a machine without Docker); CI
 * refuses the variable. Test files use `describeDocker` so that a skip shows as skipped tests.
 */
import { SKIP_DOCKER } from './skip-flag';

export { SKIP_DOCKER };

export const describeDocker: jest.Describe = SKIP_DOCKER ? describe.skip : describe;
