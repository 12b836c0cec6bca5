/** The one variable that skips the container tests (read by the global setup and the tests). */
export const SKIP_DOCKER = process.env.EVENT_PIPELINE_SKIP_DOCKER === '1';
