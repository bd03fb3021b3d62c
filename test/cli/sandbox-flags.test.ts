// --add-host, --shm-size and --ulimit as buildx reads them, into the settings every RUN step's
// sandbox gets; a bad value is a usage error with an example.

import { describe, expect, it } from 'vitest';
import { lastOf, parseRamSize, parseSandboxFlags } from '../../src/cli/sandbox-flags.js';

const parse = (flags: Partial<Parameters<typeof parseSandboxFlags>[0]>) => parseSandboxFlags({ addHost: [], ulimit: [], ...flags });

describe('--add-host', () => {
  it('reads NAME:IP and NAME=IP, IPv6 bare or in brackets, several per flag comma-separated, in order', () => {
    const { extraHosts } = parse({ addHost: ['db.internal:10.0.0.5', 'db6=[fd00::5]', 'lo6:::1', 'a=::ffff:1.2.3.4,b_1:127.0.0.2'] });
    expect(extraHosts).toEqual([
      { name: 'db.internal', ip: '10.0.0.5' },
      { name: 'db6', ip: 'fd00::5' },
      { name: 'lo6', ip: '::1' },
      { name: 'a', ip: '::ffff:1.2.3.4' },
      { name: 'b_1', ip: '127.0.0.2' },
    ]);
  });

  it.each([
    ['db', 'expected NAME:IP or NAME=IP'],
    [':10.0.0.5', 'expected NAME:IP or NAME=IP'],
    ['db=', 'expected NAME:IP or NAME=IP'],
    ['-db:10.0.0.5', '"-db" is not a host name'],
    ['d#b:10.0.0.5', '"d#b" is not a host name'],
    ['db:10.0.0.256', '"10.0.0.256" is not an IP address'],
    ['db=[10.0.0.5', '"[10.0.0.5" is not an IP address'],
    ['db=fe80::1%eth0', '"fe80::1%eth0" is not an IP address'],
    ['db:host-gateway', 'tsbuild has no host-gateway address'],
  ])('refuses %j: %s', (value, message) => {
    expect(() => parse({ addHost: [value] })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining(message), hint: expect.any(String) }));
  });
});

describe('--shm-size', () => {
  it('reads binary units as buildx does (128m is 128 MiB); 0 means the default', () => {
    expect(parse({ shmSize: '128m' })).toEqual({ shmSizeBytes: 128 * 1024 ** 2 });
    expect(parse({ shmSize: '1g' })).toEqual({ shmSizeBytes: 1024 ** 3 });
    expect(parse({ shmSize: '512KiB' })).toEqual({ shmSizeBytes: 512 * 1024 });
    expect(parse({ shmSize: '1048576' })).toEqual({ shmSizeBytes: 1048576 });
    expect(parse({ shmSize: '0' })).toEqual({});
  });

  it('given twice, the last one wins, as in buildx', () => {
    expect(parse({ shmSize: ['1g', '128m'] })).toEqual({ shmSizeBytes: 128 * 1024 ** 2 });
  });

  it.each(['', '-1m', '12x', '1e3'])('refuses %j', (value) => {
    expect(() => parse({ shmSize: value })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: `invalid --shm-size "${value}"` }));
  });
});

describe('--memory', () => {
  it('reads binary units as Docker does (512m is 512 MiB, as is 512MiB); a bad size is a usage error', () => {
    expect(parseRamSize('--memory', '512m')).toBe(512 * 1024 ** 2);
    expect(parseRamSize('--memory', '512MiB')).toBe(512 * 1024 ** 2);
    expect(parseRamSize('--memory', '1g')).toBe(1024 ** 3);
    expect(() => parseRamSize('--memory', '12 apples')).toThrow(/invalid --memory "12 apples"/);
    expect(lastOf(['1g', '2g'])).toBe('2g');
  });
});

describe('--ulimit', () => {
  it('reads TYPE=SOFT[:HARD] (HARD defaults to SOFT, -1 is unlimited), one per type, the later winning, sorted', () => {
    const { ulimits } = parse({ ulimit: ['nproc=100', 'nofile=1024:4096', 'core=-1', 'nofile=2048:-1', 'as=0:0'] });
    expect(ulimits).toEqual([
      { type: 'as', soft: 0, hard: 0 },
      { type: 'core', soft: -1, hard: -1 },
      { type: 'nofile', soft: 2048, hard: -1 },
      { type: 'nproc', soft: 100, hard: 100 },
    ]);
  });

  it.each([
    ['nofile', 'expected TYPE=SOFT[:HARD]'],
    ['=1', 'expected TYPE=SOFT[:HARD]'],
    ['nofile=1:2:3', 'expected TYPE=SOFT[:HARD]'],
    ['files=1', '"files" is not a limit type'],
    ['NOFILE=1', '"NOFILE" is not a limit type'],
    ['nofile=', '"" is not a whole number or -1'],
    ['nofile=-2', '"-2" is not a whole number or -1'],
    ['nofile=1.5', '"1.5" is not a whole number or -1'],
    ['nofile=99999999999999999999', 'is not a whole number or -1'],
    ['nofile=10:5', 'the soft limit is above the hard limit'],
    ['nofile=-1:5', 'the soft limit is above the hard limit'],
  ])('refuses %j: %s', (value, message) => {
    expect(() => parse({ ulimit: [value] })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining(message), hint: expect.stringContaining('nofile=1024:4096') }));
  });
});

it('gives no field for a flag not given, so the build keeps its cache keys', () => {
  expect(parse({})).toEqual({});
});
