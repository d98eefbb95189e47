// @vitest-environment node
// Tauri refuses a command a window's capability does not allow, and one the app's build
// does not declare: the button then fails only in the real app. Every command a window's
// components call through `ipc` must be allowed for that window in `tauri.conf.json` and
// declared in `src-tauri/build.rs`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** The command each `ipc` wrapper invokes, by the wrapper's name. */
function wrappers(): Map<string, string> {
  const found = new Map<string, string>();
  const definition = /export const (\w+) = [\s\S]*?command(?:<[^>]*>)?\('(\w+)'/g;
  for (const [, wrapper, command] of read('ui/src/lib/ipc.ts').matchAll(definition)) {
    found.set(wrapper, command);
  }
  return found;
}

/** The `ipc` wrappers the Svelte components under `dir` call. */
function called(dir: string): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.svelte')) continue;
    for (const [, name] of read(join(dir, file)).matchAll(/\bipc\.(\w+)\(/g)) names.add(name);
  }
  return names;
}

interface Capability {
  windows: string[];
  permissions: string[];
}

function allowed(window: string): Set<string> {
  const config = JSON.parse(read('tauri.conf.json')) as { app: { security: { capabilities: Capability[] } } };
  const capability = config.app.security.capabilities.find((c) => c.windows.includes(window));
  return new Set(capability?.permissions ?? []);
}

const declared = new Set([...read('src-tauri/build.rs').matchAll(/^\s+"(\w+)",$/gm)].map(([, name]) => name));

describe('the commands each window calls', () => {
  const commands = wrappers();
  it.each([
    ['main', 'ui/src/components'],
    ['popup', 'ui/src/popup'],
  ])('are allowed for the %s window and declared by the build', (window, dir) => {
    const permissions = allowed(window);
    const uses = [...called(dir)].filter((name) => commands.has(name));
    expect(uses.length).toBeGreaterThan(0);
    for (const wrapper of uses) {
      const command = commands.get(wrapper) ?? '';
      expect(permissions, `${window} calls ${command}`).toContain(`allow-${command.replaceAll('_', '-')}`);
      expect(declared, `build.rs declares ${command}`).toContain(command);
    }
  });
});
