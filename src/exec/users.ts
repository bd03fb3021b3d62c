// User and group names resolved through the image's own /etc/passwd and /etc/group, never
// the host's. Two rule sets, because Docker has two: USER follows runc (a uid missing from
// passwd runs with gid 0; supplementary groups from /etc/group), `--chown` follows
// BuildKit's file op (a bare uid means gid = uid; a name takes its passwd gid).

import { BuildError } from '../errors.js';
import type { LayeredRoot } from './layered-root.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups (USER only), sorted, without the primary gid. */
  groups: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^[0-9]+$/;
const MAX_ID = 0xffffffff - 1;

/** Resolves a USER value (`name`, `uid`, `name:group`, `uid:gid`) as runc does. */
export async function resolveUser(root: LayeredRoot, spec: string): Promise<ResolvedUser> {
  const { user, group } = splitSpec(spec);
  const passwd = await readPasswd(root);
  const entry = findUser(passwd, user);
  if (!entry && !NUMERIC.test(user)) throw unknownUser(user);
  const uid = entry?.uid ?? parseId(user, spec);
  let gid = entry?.gid ?? 0;
  let groups: number[] = [];
  const groupFile = await readGroup(root);
  if (group !== undefined) {
    gid = resolveGroup(groupFile, group, spec);
  } else if (entry) {
    const member = groupFile.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
    groups = [...new Set(member)].filter((g) => g !== gid).sort((a, b) => a - b);
  }
  return { uid, gid, groups };
}

/** Resolves a `--chown` value as BuildKit's file op does. */
export async function resolveChown(root: LayeredRoot, spec: string): Promise<{ uid: number; gid: number }> {
  const { user, group } = splitSpec(spec);
  let uid: number;
  let gid: number;
  if (NUMERIC.test(user)) {
    uid = parseId(user, spec);
    gid = uid;
  } else {
    const entry = findUser(await readPasswd(root), user);
    if (!entry) throw unknownUser(user);
    ({ uid, gid } = entry);
  }
  if (group !== undefined) {
    gid = NUMERIC.test(group) ? parseId(group, spec) : resolveGroup(await readGroup(root), group, spec);
  }
  return { uid, gid };
}

function splitSpec(spec: string): { user: string; group?: string } {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  if (user === '' || group === '') {
    throw new BuildError('E_USER_INVALID', `invalid user "${spec}": expected name, uid, name:group or uid:gid`);
  }
  return { user, group };
}

function parseId(text: string, spec: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id > MAX_ID) {
    throw new BuildError('E_USER_INVALID', `invalid user "${spec}": ${text} is out of range`);
  }
  return id;
}

function findUser(passwd: PasswdEntry[], user: string): PasswdEntry | undefined {
  if (NUMERIC.test(user)) return passwd.find((entry) => entry.uid === Number(user));
  return passwd.find((entry) => entry.name === user);
}

function resolveGroup(groups: GroupEntry[], group: string, spec: string): number {
  if (NUMERIC.test(group)) return parseId(group, spec);
  const entry = groups.find((g) => g.name === group);
  if (!entry) {
    throw new BuildError('E_USER_UNKNOWN', `unable to find group ${group}: no matching entries in group file`, {
      hint: 'create the group in the image first (e.g. RUN addgroup), or use a numeric gid',
    });
  }
  return entry.gid;
}

function unknownUser(user: string): BuildError {
  return new BuildError('E_USER_UNKNOWN', `unable to find user ${user}: no matching entries in passwd file`, {
    hint: 'create the user in the image first (e.g. RUN adduser), or use a numeric uid',
  });
}

async function readPasswd(root: LayeredRoot): Promise<PasswdEntry[]> {
  return (await readColonFile(root, '/etc/passwd')).flatMap((fields) => {
    const [name, , uid, gid] = fields;
    if (!name || !uid || !gid || !NUMERIC.test(uid) || !NUMERIC.test(gid)) return [];
    return [{ name, uid: Number(uid), gid: Number(gid) }];
  });
}

async function readGroup(root: LayeredRoot): Promise<GroupEntry[]> {
  return (await readColonFile(root, '/etc/group')).flatMap((fields) => {
    const [name, , gid, members] = fields;
    if (!name || !gid || !NUMERIC.test(gid)) return [];
    return [{ name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) }];
  });
}

/** Lines of a passwd-style file split on `:`; a missing file reads as empty, as in runc. */
async function readColonFile(root: LayeredRoot, path: string): Promise<string[][]> {
  const entry = await root.stat(path);
  if (!entry?.stats.isFile()) return [];
  const handle = await root.open(path);
  try {
    const text = await handle.readFile('utf8');
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } finally {
    await handle.close();
  }
}
