/** Chooses the message handler: the built-in one, or the module named by HANDLER_MODULE. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../common/config';
import { handle as defaultHandle } from './handler';
import type { Handler } from './message';

export async function loadHandler(modulePath: string | undefined): Promise<Handler> {
  if (modulePath === undefined) return defaultHandle;
  let loaded: { handle?: unknown; default?: { handle?: unknown } };
  try {
    loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as typeof loaded;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`HANDLER_MODULE could not be loaded: ${reason}`]);
  }
  // A CommonJS module imported from here shows its exports under `default` as well.
  const handle = loaded.handle ?? loaded.default?.handle;
  if (typeof handle !== 'function') {
    throw new ConfigError(['HANDLER_MODULE must export a function named handle']);
  }
  return handle as Handler;
}
