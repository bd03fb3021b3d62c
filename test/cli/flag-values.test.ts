// `--ssh` values as buildx spells them, read into the sources the build gets.

import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { parseSshSources } from '../../src/cli/flag-values.js';

function context(env: NodeJS.ProcessEnv = {}): CliContext {
  return {
    stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), env, cwd: '/home/me/app',
    stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, signal: new AbortController().signal,
  };
}

describe('--ssh', () => {
  it('default, or an id alone, is the agent at $SSH_AUTH_SOCK; ID=PATH[,PATH] are paths from the working dir', () => {
    const sources = parseSshSources(['default', 'work', 'git=keys/deploy,/etc/ssh/other', 'agent=/run/agent.sock'], context({ SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1' }));
    expect(sources).toEqual({
      default: { paths: ['/tmp/ssh-x/agent.1'] },
      work: { paths: ['/tmp/ssh-x/agent.1'] },
      git: { paths: ['/home/me/app/keys/deploy', '/etc/ssh/other'] },
      agent: { paths: ['/run/agent.sock'] },
    });
  });

  it('without SSH_AUTH_SOCK, default is a usage error that says what to do', () => {
    expect(() => parseSshSources(['default'], context())).toThrow(expect.objectContaining({
      code: 'E_USAGE', message: expect.stringContaining('SSH_AUTH_SOCK is not set'), hint: expect.stringContaining('--ssh default=~/.ssh/id_ed25519'),
    }));
  });

  it('refuses an empty id, and an id given twice', () => {
    expect(() => parseSshSources(['=key'], context())).toThrow(/invalid --ssh "=key"/);
    expect(() => parseSshSources(['git=a', 'git=b'], context())).toThrow(/--ssh git is given twice/);
  });

  it('takes ids that are names of object properties like any other', () => {
    const sources = parseSshSources(['toString=/k1', '__proto__=/k2', 'constructor=/k3'], context());
    expect(Object.keys(sources).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(sources['__proto__']).toEqual({ paths: ['/k2'] });
  });
});
