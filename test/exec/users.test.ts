// USER and --chown names resolved in the image's own /etc/passwd and /etc/group.

import { describe, expect, it } from 'vitest';
import { LayeredRoot, resolveChown, resolveUser } from '../../src/exec/index.js';
import { testdir } from '../helpers/testdir.js';

function imageRoot(): LayeredRoot {
  const base = testdir({
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n',
    'etc/group': 'root:x:0:\nwww:x:33:\nstaff:x:50:app,www\ndocker:x:999:app\n',
  });
  // A later layer adds the app user, as `RUN adduser` would.
  const added = testdir({
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n',
  });
  return new LayeredRoot([base, added]);
}

describe('resolveUser (USER, runc rules)', () => {
  it('resolves a name to its uid, primary gid and supplementary groups', async () => {
    expect(await resolveUser(imageRoot(), 'app')).toEqual({ uid: 1000, gid: 1000, groups: [50, 999] });
  });

  it('takes a uid from passwd when listed, and gid 0 when not', async () => {
    expect(await resolveUser(imageRoot(), '33')).toEqual({ uid: 33, gid: 33, groups: [50] });
    expect(await resolveUser(imageRoot(), '4242')).toEqual({ uid: 4242, gid: 0, groups: [] });
  });

  it('uses an explicit group by name or id, without supplementary groups', async () => {
    expect(await resolveUser(imageRoot(), 'app:staff')).toEqual({ uid: 1000, gid: 50, groups: [] });
    expect(await resolveUser(imageRoot(), '1000:7')).toEqual({ uid: 1000, gid: 7, groups: [] });
  });

  it('fails for an unknown user or group as Docker words it', async () => {
    await expect(resolveUser(imageRoot(), 'nobody')).rejects.toThrow(
      'unable to find user nobody: no matching entries in passwd file',
    );
    await expect(resolveUser(imageRoot(), 'app:wheel')).rejects.toThrow(
      'unable to find group wheel: no matching entries in group file',
    );
    await expect(resolveUser(imageRoot(), ':5')).rejects.toMatchObject({ code: 'E_USER_INVALID' });
  });

  it('treats a root without /etc/passwd as having no users', async () => {
    const empty = new LayeredRoot([testdir({})]);
    expect(await resolveUser(empty, '0:0')).toEqual({ uid: 0, gid: 0, groups: [] });
    await expect(resolveUser(empty, 'app')).rejects.toMatchObject({ code: 'E_USER_UNKNOWN' });
  });
});

describe('resolveChown (--chown, BuildKit rules)', () => {
  it('a bare uid uses itself as gid; a name uses its passwd gid', async () => {
    expect(await resolveChown(imageRoot(), '4242')).toEqual({ uid: 4242, gid: 4242 });
    expect(await resolveChown(imageRoot(), 'www')).toEqual({ uid: 33, gid: 33 });
    expect(await resolveChown(imageRoot(), 'app:docker')).toEqual({ uid: 1000, gid: 999 });
    expect(await resolveChown(imageRoot(), '10:11')).toEqual({ uid: 10, gid: 11 });
  });

  it('fails for an unknown name', async () => {
    await expect(resolveChown(imageRoot(), 'ghost')).rejects.toThrow('unable to find user ghost');
  });
});
