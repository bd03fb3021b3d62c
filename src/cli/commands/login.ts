import { UsageError } from '../../errors.js';
import { dockerConfigDir, login, normalizeRegistryName } from '../../index.js';
import { readAllText } from '../stdin.js';
import type { CommandSpec } from './types.js';
import { registryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

interface LoginArgs extends RegistryFlags {
  registry?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export const loginCommand: CommandSpec<LoginArgs> = {
  command: 'login [registry]',
  describe: 'Check credentials against a registry and store them as Docker does (credential helper or config.json)',
  examples: [
    ['echo "$TOKEN" | tsbuild login -u ci --password-stdin ghcr.io', 'log in with a password or token read from stdin'],
    ['tsbuild login -u admin --password-stdin --ca-cert ca.pem registry.internal:5000 < pw.txt', 'log in to a registry with a private CA'],
  ],
  builder: (y) =>
    registryFlags(y)
      .positional('registry', { type: 'string', describe: 'HOST[:PORT] (default: Docker Hub)' })
      .option('username', { alias: 'u', type: 'string', describe: 'User name' })
      .option('password', { alias: 'p', type: 'string', describe: 'Password (insecure: it shows in the process list; prefer --password-stdin)' })
      .option('password-stdin', { type: 'boolean', describe: 'Read the password from stdin' })
      .conflicts('password', 'password-stdin'),
  async handler(args, ctx) {
    const registry = normalizeRegistryName(args.registry);
    if (!args.username) throw new UsageError('no user name given', { hint: `Run tsbuild login -u USER --password-stdin ${registry}` });
    let password = args.password;
    // The whole of stdin, without its trailing newline (as `docker login --password-stdin`).
    if (args.passwordStdin) password = (await readAllText(ctx.stdin)).replace(/\r?\n$/, '');
    else if (password !== undefined) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (!password) throw new UsageError('no password given', { hint: `Pipe it in: … | tsbuild login -u ${args.username} --password-stdin ${registry}` });
    const configDir = dockerConfigDir(ctx.env);
    await login(registry, { username: args.username, password }, { ...registryOptions(args, ctx), dockerConfigDir: configDir });
    ctx.stdout.write('Login Succeeded\n');
    return 0;
  },
};
