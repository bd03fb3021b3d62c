import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/lib/canonical-json.js';
import { sha256, type Digest } from '../../src/lib/digest.js';
import { MediaType } from '../../src/layer/oci.js';
import { appendStep, EMPTY_STATE, imageConfig, imageManifest, rfc3339 } from '../../src/solve/image.js';
import type { LayerRef } from '../../src/store/types.js';
import { stageConfig } from './plan-fixtures.js';

const layer = (n: number, mediaType: string = MediaType.ociLayer): LayerRef => ({
  diffId: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest,
  descriptor: { mediaType, digest: `sha256:${String(n + 1).repeat(64).slice(0, 64)}` as Digest, size: 100 + n },
});

describe('image assembly', () => {
  it('writes SOURCE_DATE_EPOCH as RFC 3339 without fractions, 0 being the epoch', () => {
    expect(rfc3339(0)).toBe('1970-01-01T00:00:00Z');
    expect(rfc3339(1700000000)).toBe('2023-11-14T22:13:20Z');
  });

  it('records steps without a layer as empty_layer history, and layers in order', () => {
    const base = { layers: [layer(1, MediaType.ociLayerGzip)], history: [{ created_by: 'base' }] };
    const created = rfc3339(0);
    const afterRun = appendStep(base, layer(2), { createdBy: 'RUN make # buildkit' }, created);
    const afterEnv = appendStep(afterRun, null, { createdBy: 'ENV A=1' }, created);
    expect(afterEnv.layers.map((l) => l.diffId)).toEqual([layer(1).diffId, layer(2).diffId]);
    expect(afterEnv.history).toEqual([
      { created_by: 'base' },
      { created, created_by: 'RUN make # buildkit' },
      { created, created_by: 'ENV A=1', empty_layer: true },
    ]);
    // Base layers are carried as they are: a pulled gzip layer keeps its media type and digest.
    const manifest = imageManifest({ mediaType: MediaType.ociConfig, digest: sha256('{}'), size: 2 }, afterEnv);
    expect(manifest.layers[0]).toEqual(layer(1, MediaType.ociLayerGzip).descriptor);
    expect(manifest.layers[1]!.mediaType).toBe(MediaType.ociLayer);
  });

  it('writes no history line for a step Docker records none for (ONBUILD), unless it made a layer', () => {
    expect(appendStep(EMPTY_STATE, null, { createdBy: 'ONBUILD', noHistory: true }, rfc3339(0))).toBe(EMPTY_STATE);
    expect(appendStep(EMPTY_STATE, layer(1), { createdBy: 'RUN x', noHistory: true }, rfc3339(0)).history).toHaveLength(1);
  });

  it('maps every StageConfig field to the OCI config names', () => {
    const config = imageConfig({
      state: appendStep(EMPTY_STATE, layer(3), { createdBy: 'COPY a /a' }, rfc3339(5)),
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      created: rfc3339(5),
      config: stageConfig({
        env: ['A=1'], user: 'app', workdir: '/srv', entrypoint: ['/bin/app'], cmd: ['--help'], labels: { l: 'v' },
        exposedPorts: ['80/tcp', '53/udp'], volumes: ['/data'], stopSignal: 'SIGTERM',
        healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 }, onBuild: ['RUN x'], shell: ['/bin/bash', '-c'], explicitShell: true, author: 'me',
      }),
    });
    expect(config).toMatchObject({
      created: '1970-01-01T00:00:05Z', author: 'me', os: 'linux', architecture: 'arm', variant: 'v7',
      rootfs: { type: 'layers', diff_ids: [layer(3).diffId] },
      config: {
        Env: ['A=1'], User: 'app', WorkingDir: '/srv', Entrypoint: ['/bin/app'], Cmd: ['--help'], Labels: { l: 'v' },
        ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGTERM',
        Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 }, OnBuild: ['RUN x'], Shell: ['/bin/bash', '-c'],
      },
    });
  });

  it('leaves out what was never set, so a config digest does not depend on defaults', () => {
    const config = imageConfig({ state: EMPTY_STATE, platform: { os: 'linux', architecture: 'amd64' }, created: rfc3339(0), config: stageConfig({ workdir: '' }) });
    expect(Object.keys(config.config!)).toEqual(['Env']);
    expect(config).not.toHaveProperty('author');
  });

  it('equal content gives equal bytes whatever the order fields were set in', () => {
    const a = imageConfig({ state: EMPTY_STATE, platform: { os: 'linux', architecture: 'amd64' }, created: rfc3339(0), config: stageConfig({ labels: { a: '1', b: '2' } }) });
    const b = imageConfig({ state: EMPTY_STATE, platform: { architecture: 'amd64', os: 'linux' }, created: rfc3339(0), config: stageConfig({ labels: { b: '2', a: '1' } }) });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });
});
