import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, definitionDigest, encodeKeyValue, type KeyValue } from '../../src/solve/key.js';
import { copyDefinition, runDefinition, runEnvironment, type StepKeyContext } from '../../src/solve/step-definitions.js';
import { copyStep, runStep, stageConfig } from './plan-fixtures.js';

const amd64: StepKeyContext = { platform: { os: 'linux', architecture: 'amd64' }, network: 'none', sourceDateEpoch: 0 };

const keyValue: fc.Arbitrary<KeyValue> = fc.letrec<{ value: KeyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Values equal as key definitions: JSON equality after dropping undefined (-0 and 0 encode alike). */
function sameDefinition(a: KeyValue, b: KeyValue): boolean {
  const norm = (v: KeyValue): unknown =>
    Array.isArray(v) ? v.map(norm)
      : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm((v as Record<string, KeyValue>)[k]!)]))
        : typeof v === 'number' ? String(v) : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

describe('cache key encoding', () => {
  it('keeps field boundaries: ["ab","c"] and ["a","bc"] differ', () => {
    expect(definitionDigest(['ab', 'c'])).not.toBe(definitionDigest(['a', 'bc']));
    expect(cacheKey('d', ['ab', 'c'], [])).not.toBe(cacheKey('d', ['a', 'bc'], []));
    expect(cacheKey('d', ['a'], ['b'])).not.toBe(cacheKey('d', ['a', 'b'], []));
  });

  it('is unambiguous: two values encode alike only when they are the same definition', () => {
    fc.assert(
      fc.property(keyValue, keyValue, (a, b) => {
        expect(encodeKeyValue(a).equals(encodeKeyValue(b))).toBe(sameDefinition(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('splitting the same characters differently into strings always changes the key', () => {
    const splitAt = (text: string, cuts: number[]) => {
      const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((x, y) => x - y);
      return [0, ...points].map((start, i) => text.slice(start, [...points, text.length][i]));
    };
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.array(fc.nat()), fc.array(fc.nat()), (text, cutsA, cutsB) => {
        const a = splitAt(text, cutsA);
        const b = splitAt(text, cutsB);
        expect(a.join('')).toBe(b.join(''));
        expect(definitionDigest(a) === definitionDigest(b)).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 1000 },
    );
  });

  it('ignores object key order, so a plan built in another order gives the same key', () => {
    expect(definitionDigest({ a: 1, b: [2, 'x'] })).toBe(definitionDigest({ b: [2, 'x'], a: 1 }));
  });

  it('is stable across releases: the encoding gives these exact bytes', () => {
    // If this fails, the key format changed: bump KEY_VERSION instead of changing it in place.
    expect(encodeKeyValue(['ab', 1, true, null, { k: 'v' }]).toString()).toBe('l5:s2:abn1;tzm1:s1:ks1:v');
    expect(cacheKey(definitionDigest('RUN true'), ['sha256:1'], ['sha256:2'])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('step definitions', () => {
  const digestOfRun = (step = runStep('make'), context = amd64) => definitionDigest(runDefinition(step, context));

  it('the target platform is part of every layer step key', () => {
    const arm64: StepKeyContext = { ...amd64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } };
    expect(digestOfRun(runStep('make'), arm64)).not.toBe(digestOfRun());
    expect(definitionDigest(copyDefinition(copyStep(['a'], '/a'), arm64))).not.toBe(definitionDigest(copyDefinition(copyStep(['a'], '/a'), amd64)));
  });

  it('SOURCE_DATE_EPOCH is part of every layer step key: it decides the file times in the layer', () => {
    const later: StepKeyContext = { ...amd64, sourceDateEpoch: 1_700_000_000 };
    expect(digestOfRun(runStep('make'), later)).not.toBe(digestOfRun());
    expect(definitionDigest(copyDefinition(copyStep(['a'], '/a'), later))).not.toBe(definitionDigest(copyDefinition(copyStep(['a'], '/a'), amd64)));
  });

  it('RUN keys change with env, user, workdir, shell, network and mounts', () => {
    const base = digestOfRun();
    const variants = [
      runStep('make', { config: stageConfig({ env: ['A=1'] }) }),
      runStep('make', { config: stageConfig({ user: 'nobody' }) }),
      runStep('make', { config: stageConfig({ workdir: '/src' }) }),
      runStep('make', { config: stageConfig({ shell: ['/bin/bash', '-c'] }) }),
      runStep('make', { network: 'host' }),
      runStep('make', { mounts: [{ type: 'tmpfs', target: '/tmp' }] }),
      runStep('make', { args: { VERSION: '1' } }),
      runStep('make', { command: { form: 'exec', argv: ['make'] } }),
    ];
    const digests = variants.map((step) => digestOfRun(step));
    expect(new Set([base, ...digests]).size).toBe(variants.length + 1);
  });

  it('a build without sandbox settings keeps the RUN keys it had before they existed', () => {
    // Computed before --add-host, --shm-size and --ulimit were added: existing caches stay valid.
    const before = 'sha256:6209bdd6a0ac7bebedaea04877f72758529fa29082510680bc9021400e89688e';
    expect(digestOfRun()).toBe(before);
    expect(digestOfRun(runStep('make'), { ...amd64, sandbox: {} })).toBe(before);
    expect(digestOfRun(runStep('make'), { ...amd64, sandbox: { extraHosts: [], ulimits: [], shmSizeBytes: 0 } })).toBe(before);
  });

  it('RUN keys change with each sandbox setting: extra host names, ulimits, /dev/shm size', () => {
    const db = { name: 'db', ip: '10.0.0.5' };
    const nofile = { type: 'nofile' as const, soft: 1024, hard: 4096 };
    const settings = [
      { extraHosts: [db] },
      { extraHosts: [{ ...db, name: 'cache' }] },
      { extraHosts: [db, { name: 'cache', ip: '10.0.0.6' }] },
      { extraHosts: [{ name: 'cache', ip: '10.0.0.6' }, db] },
      { ulimits: [nofile] },
      { ulimits: [{ ...nofile, hard: 8192 }] },
      { ulimits: [{ ...nofile, type: 'nproc' as const }] },
      { shmSizeBytes: 128 * 1024 * 1024 },
      { shmSizeBytes: 256 * 1024 * 1024 },
    ];
    const digests = settings.map((sandbox) => digestOfRun(runStep('make'), { ...amd64, sandbox }));
    expect(new Set([digestOfRun(), ...digests]).size).toBe(settings.length + 1);
  });

  it('an extra host\'s address is not in the key, as in BuildKit: it may differ between machines', () => {
    const at = (ip: string) => digestOfRun(runStep('make'), { ...amd64, sandbox: { extraHosts: [{ name: 'db', ip }] } });
    expect(at('10.0.0.5')).toBe(at('192.168.1.9'));
  });

  it('RUN --network=default follows the build network', () => {
    expect(digestOfRun(runStep('make'), { ...amd64, network: 'host' })).toBe(digestOfRun(runStep('make', { network: 'host' })));
  });

  it('proxy build args reach the step but not its key', () => {
    fc.assert(
      fc.property(fc.constantFrom('HTTP_PROXY', 'https_proxy', 'NO_PROXY', 'ALL_PROXY'), fc.string(), (name, value) => {
        const step = runStep('make', { args: { [name]: value } });
        expect(runEnvironment(step)).toContain(`${name}=${value}`);
        expect(digestOfRun(step)).toBe(digestOfRun());
      }),
    );
  });

  it('proxy settings the plan passes separately reach the environment but not the key', () => {
    const step = runStep('make', { proxy: { HTTPS_PROXY: 'http://proxy:3128' } });
    expect(runEnvironment(step)).toContain('HTTPS_PROXY=http://proxy:3128');
    expect(digestOfRun(step)).toBe(digestOfRun());
  });

  it('an ENV of the same name wins over a build arg in the step environment', () => {
    const step = runStep('make', { args: { V: 'arg', W: 'w' }, config: stageConfig({ env: ['V=env'] }) });
    expect(runEnvironment(step)).toEqual(['W=w', 'V=env']);
  });

  it('an ssh mount sets SSH_AUTH_SOCK to its socket unless the environment has one, and keys its id, place and mode', () => {
    const ssh = (id: string, target: string, mode = 0o600) => ({ type: 'ssh' as const, id, target, required: false, uid: 0, gid: 0, mode });
    const step = runStep('make', { mounts: [ssh('default', '/run/a'), ssh('git', '/run/b')] });
    expect(runEnvironment(step)).toContain('SSH_AUTH_SOCK=/run/a');
    const own = runStep('make', { mounts: [ssh('default', '/run/a')], config: stageConfig({ env: ['SSH_AUTH_SOCK=/mine'] }) });
    expect(runEnvironment(own).filter((entry) => entry.startsWith('SSH_AUTH_SOCK='))).toEqual(['SSH_AUTH_SOCK=/mine']);
    const variants = [ssh('other', '/run/a'), ssh('default', '/run/c'), ssh('default', '/run/a', 0o666)];
    const digests = variants.map((mount) => digestOfRun(runStep('make', { mounts: [mount] })));
    expect(new Set([digestOfRun(runStep('make', { mounts: [ssh('default', '/run/a')] })), ...digests]).size).toBe(variants.length + 1);
  });

  it('COPY keys change with chown, chmod, dest, workdir and sources', () => {
    const base = copyStep(['a'], 'dest/');
    const variants = [
      copyStep(['a'], 'dest/', { chown: '1000:1000' }),
      copyStep(['a'], 'dest/', { chmod: '0755' }),
      copyStep(['a'], 'other/'),
      copyStep(['a'], 'dest/', { config: stageConfig({ workdir: '/app' }) }),
      copyStep(['a', 'b'], 'dest/'),
      copyStep(['a'], 'dest/', { from: { kind: 'stage', stage: 0 } }),
      { ...copyStep(['a'], 'dest/'), kind: 'add' as const },
    ];
    const digests = [base, ...variants].map((step) => definitionDigest(copyDefinition(step, amd64)));
    expect(new Set(digests).size).toBe(variants.length + 1);
  });

  it('COPY keys ignore config that cannot change the copied files (labels, env, cmd)', () => {
    const plain = definitionDigest(copyDefinition(copyStep(['a'], '/a'), amd64));
    const labelled = copyStep(['a'], '/a', { config: stageConfig({ labels: { x: 'y' }, env: ['A=1'], cmd: ['sh'] }) });
    expect(definitionDigest(copyDefinition(labelled, amd64))).toBe(plain);
  });
});
