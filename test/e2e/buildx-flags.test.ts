// Flags CI scripts copied from buildx pass: --load into a real dockerd (Debian's docker.io on a
// private socket), --annotation read back with skopeo and from index.json, and the
// attestation flags, accepted when they ask for none and refused with a hint otherwise.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { formatPlatform, hostPlatform } from '../../src/lib/platform.js';
import { dockerdUnavailable, useDockerd } from '../helpers/dockerd.js';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from './session.js';

const noDockerd = dockerdUnavailable();
if (noDockerd) console.log(`buildx-flags: --load against dockerd skipped: ${noDockerd}`);

const DOCKERFILE = 'FROM busybox\nCOPY greeting /greeting\nLABEL org.example.team=builders\nCMD ["cat", "/greeting"]\n';

describe('buildx flags', () => {
  let session: Session;
  let context: string;

  beforeAll(async () => {
    session = await openSession();
    context = join(session.dir, 'context');
    writeTree(context, { Dockerfile: DOCKERFILE, greeting: 'hello\n' });
  });
  afterAll(() => session.close());

  /** `tsbuild build -q FLAGS… CONTEXT`: the image digest, after checking the build succeeded. */
  async function digestOf(...flags: string[]): Promise<string> {
    const built = await session.tsbuild(['build', '-q', ...flags, context]);
    expect(built.status, built.stderr).toBe(0);
    return built.stdout.trim();
  }

  async function refused(flags: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    const result = await session.tsbuild(['build', '-q', ...flags, context], { env });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/\[E_USAGE\]\nhint: /);
    expect(result.stderr).not.toContain('Unknown argument');
    return result.stderr;
  }

  describe('--provenance, --sbom, --attest', () => {
    it('values that ask for no attestation change nothing', async () => {
      const plain = await digestOf();
      for (const flags of [
        ['--provenance=false'], ['--provenance', '0'], ['--sbom=false'], ['--provenance=false', '--sbom=false'],
        ['--attest', 'type=provenance,disabled=true'], ['--attest', 'type=sbom,disabled=1', '--provenance=False'],
      ]) {
        expect(await digestOf(...flags), flags.join(' ')).toBe(plain);
      }
    });

    it('values that ask for one are usage errors that say what to use instead', async () => {
      expect(await refused(['--provenance=true'])).toContain('--archive');
      expect(await refused(['--provenance=mode=max'])).toContain('--provenance=mode=max asks for a provenance attestation');
      expect(await refused(['--sbom=true'])).toContain('an SBOM attestation');
      expect(await refused(['--attest', 'type=provenance'])).toContain('--provenance=false');
      expect(await refused(['--attest', 'type=unknown,disabled=true'])).toContain('unknown attestation type "unknown"');
    });
  });

  describe('--annotation', () => {
    it('annotates the manifest, its descriptor and index.json of an OCI output, reproducibly', async () => {
      const out = join(session.dir, 'annotated.tar');
      const flags = [
        '-t', 'annotated:1', '-o', `type=oci,dest=${out}`,
        '--annotation', 'org.opencontainers.image.title=greeter',
        '--annotation', `manifest[${formatPlatform(hostPlatform())}]:org.example.arch=host`,
        '--annotation', 'index,manifest-descriptor:org.opencontainers.image.version=1.0',
      ];
      const digest = await digestOf(...flags);
      expect(digest).not.toBe(await digestOf());
      expect(await digestOf(...flags)).toBe(digest);

      const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${out}:1`], { encoding: 'utf8' }));
      expect(manifest.annotations).toEqual({ 'org.opencontainers.image.title': 'greeter', 'org.example.arch': 'host' });
      const index = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }));
      expect(index.annotations).toEqual({ 'org.opencontainers.image.version': '1.0' });
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0].digest).toBe(digest);
      expect(index.manifests[0].annotations).toMatchObject({ 'org.opencontainers.image.version': '1.0', 'org.opencontainers.image.ref.name': '1' });
    });

    it('umoci reads the annotated layout', async () => {
      const out = join(session.dir, 'umoci.tar');
      await digestOf('-t', 'umoci:1', '-o', `type=oci,dest=${out}`, '--annotation', 'manifest:org.example.a=b');
      const layout = join(session.dir, 'umoci-layout');
      execFileSync('mkdir', ['-p', layout]);
      execFileSync('tar', ['-xf', out, '-C', layout]);
      const stat = JSON.parse(execFileSync('umoci', ['stat', '--json', '--image', `${layout}:1`], { encoding: 'utf8' }));
      expect(stat.history.at(-1).created_by).toContain('CMD');
    });

    it('a manifest annotation is archived: replay makes the same image', async () => {
      const archive = join(session.dir, 'annotated.tar');
      const digest = await digestOf('--archive', archive, '--annotation', 'org.opencontainers.image.title=greeter');
      const replayed = await runCli(['replay', '--root', join(session.dir, 'replay-annotated'), '--progress', 'json', archive], { cwd: session.dir });
      expect(replayed.status, replayed.stderr).toBe(0);
      const report = JSON.parse(replayed.stdout.trim().split('\n').at(-1)!);
      expect(report).toMatchObject({ image: { archived: digest, rebuilt: digest } });
    });

    it('refuses a bad spec, and an annotation no output can carry', async () => {
      expect(await refused(['--annotation', 'no-value-here'])).toContain('expected KEY=VALUE');
      expect(await refused(['--annotation', 'config:org.example.a=b'])).toContain('unknown annotation type "config"');
      expect(await refused(['--annotation', 'index:org.example.a=b'])).toContain('no output of this build has an index.json');
      expect(await refused(['--annotation', 'index-descriptor:org.example.a=b', '-o', `type=oci,dest=${join(session.dir, 'x.tar')}`])).toContain('no image index');
      expect(await refused(['--annotation', 'manifest[windows/arm64]:org.example.a=b'])).toContain('no image for windows/arm64');
    });
  });

  describe('--load', () => {
    it('a missing daemon socket is an error with a hint, and the image stays in the store', async () => {
      const env = { DOCKER_HOST: `unix://${join(session.dir, 'no-such-docker.sock')}` };
      const result = await session.tsbuild(['build', '--progress', 'plain', '--load', '-t', 'unloaded:1', context], { env });
      expect(result.status, result.stderr).toBe(6);
      expect(result.stderr).toMatch(/ERROR: --load: no Docker daemon socket at .*no-such-docker\.sock \[E_DOCKER_UNREACHABLE\]/);
      expect(result.stderr).toMatch(/^hint: Start dockerd, or point DOCKER_HOST at its socket/m);
      expect((await session.tsbuild(['inspect', 'unloaded:1'])).status).toBe(0);
    });

    it('refuses a DOCKER_HOST that is not a unix socket before building', async () => {
      expect(await refused(['--load'], { DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toContain('unix socket only');
    });

    describe.skipIf(noDockerd)('into a real dockerd', () => {
      const dockerd = useDockerd();

      it('loads the image under every -t name, with its config, and reports the transfer', async () => {
        const metadataFile = join(session.dir, 'loaded.json');
        const built = await session.buildJson(['--load', '-t', 'tsbuild-loaded:1', '-t', 'example.com/team/app:2', '--metadata-file', metadataFile, context], {
          env: { DOCKER_HOST: `unix://${dockerd().socket}` },
        });
        expect(built.status, built.stderr).toBe(0);
        const metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
        const transfers = built.events.filter((e): e is Extract<BuildEvent, { type: 'transfer' }> => e.type === 'transfer' && e.id.startsWith('load:'));
        expect(transfers.at(-1)).toMatchObject({ id: `load:${metadata['containerimage.digest']}`, done: true });
        expect(transfers.at(-1)!.label).toMatch(/^loading [0-9a-f]{12}$/);

        const [inspected] = JSON.parse(dockerd().docker('image', 'inspect', 'tsbuild-loaded:1'));
        expect(inspected.Id).toBe(metadata['containerimage.config.digest']);
        expect(inspected.RepoTags.sort()).toEqual(['example.com/team/app:2', 'tsbuild-loaded:1']);
        expect(inspected.Config.Cmd).toEqual(['cat', '/greeting']);
        expect(inspected.Config.Labels).toEqual({ 'org.example.team': 'builders' });
        expect(inspected.Created).toBe('1970-01-01T00:00:00Z');
      });

      it('-o type=docker without dest= is a load too', async () => {
        const metadataFile = join(session.dir, 'output-load.json');
        const built = await session.tsbuild(['build', '-q', '-o', 'type=docker', '-t', 'tsbuild-output-load:1', '--metadata-file', metadataFile, context], {
          env: { DOCKER_HOST: `unix://${dockerd().socket}` },
        });
        expect(built.status, built.stderr).toBe(0);
        const [inspected] = JSON.parse(dockerd().docker('image', 'inspect', 'tsbuild-output-load:1'));
        expect(inspected.Id).toBe(JSON.parse(readFileSync(metadataFile, 'utf8'))['containerimage.config.digest']);
      });

      it('an image the daemon refuses is an error with its message, and stays in the store', async () => {
        // dockerd on Linux refuses a Windows image: a real refusal by the Engine API.
        writeTree(join(session.dir, 'windows'), { Dockerfile: 'FROM scratch\nCOPY greeting /greeting\n', greeting: 'hi\n' });
        const result = await session.tsbuild(['build', '--progress', 'plain', '--platform', 'windows/amd64', '--load', '-t', 'refused:1', join(session.dir, 'windows')], {
          env: { DOCKER_HOST: `unix://${dockerd().socket}` },
        });
        expect(result.status, result.stderr).toBe(6);
        expect(result.stderr).toMatch(/ERROR: --load: the Docker daemon refused the image: .*windows.* \[E_DOCKER_LOAD\]/);
        expect(result.stderr).toMatch(/^hint: /m);
        expect((await session.tsbuild(['inspect', 'refused:1'])).status).toBe(0);
        expect(() => dockerd().docker('image', 'inspect', 'refused:1')).toThrow();
      });
    });
  });
});
