// planBuild: expansion, ARG scoping, config evolution, history text and stage graphs, each
// against the rule Docker/BuildKit documents.

import { describe, expect, it } from 'vitest';
import { BuildError, RecipeError } from '../../src/errors.js';
import { parseRecipe } from '../../src/recipe/index.js';
import { baseImageRefs, planBuild } from '../../src/plan/index.js';
import type { BaseImageInfo, BuildGraph, ConfigStep, CopyStep, PlannedStep, PlanOptions, RunStep } from '../../src/plan/types.js';

const AMD64 = { platform: 'linux/amd64', buildPlatform: 'linux/amd64' };

function plan(text: string, options: PlanOptions = {}): BuildGraph {
  return planBuild(parseRecipe(text, 'Dockerfile'), { ...AMD64, ...options });
}

/** The steps of the target stage. */
function steps(text: string, options: PlanOptions = {}): PlannedStep[] {
  const graph = plan(text, options);
  return graph.stages.find((stage) => stage.index === graph.target)!.steps;
}

function last<T extends PlannedStep>(text: string, options: PlanOptions = {}): T {
  const all = steps(text, options);
  return all[all.length - 1] as T;
}

function planError(text: string, options: PlanOptions = {}): RecipeError {
  try {
    plan(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return error as RecipeError;
  }
  throw new Error('expected a RecipeError');
}

const BASE: Record<string, BaseImageInfo> = {
  'debian:12': { env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'], cmd: ['bash'], workingDir: '/', labels: { from: 'debian' } },
};

describe('ARG scoping', () => {
  it('global ARGs reach FROM but not the stage unless redeclared', () => {
    const graph = plan('ARG TAG=12\nFROM debian:$TAG\nRUN echo\nENV seen=${TAG:-unset}\nARG TAG\nENV now=$TAG', { baseImages: BASE });
    const stage = graph.stages[0]!;
    expect(stage.base).toEqual({ kind: 'image', ref: 'debian:12' });
    expect(stage.steps.at(-1)!.config.env).toEqual(['PATH=/usr/bin:/bin', 'LANG=C.UTF-8', 'seen=unset', 'now=12']);
  });

  it('--build-arg overrides global and stage defaults', () => {
    const env = last('ARG TAG=12\nFROM scratch\nARG TAG\nARG X=default\nENV t=$TAG x=$X', { buildArgs: { TAG: '13', X: 'given' } }).config.env;
    expect(env).toContain('t=13');
    expect(env).toContain('x=given');
  });

  it('a stage default beats the global value; defaults expand in the stage scope', () => {
    const env = last('ARG V=global\nFROM scratch\nARG A=a\nARG V=stage-$A\nENV v=$V').config.env;
    expect(env).toContain('v=stage-a');
  });

  it('ENV overrides ARG of the same name when expanding', () => {
    const env = last('FROM scratch\nARG V=arg\nENV V=env\nENV seen=$V').config.env;
    expect(env).toContain('seen=env');
  });

  it('args are RUN environment, not image config', () => {
    const run = last<RunStep>('FROM scratch\nARG A=1\nARG UNSET\nRUN make');
    expect(run.args).toEqual({ A: '1' });
    expect(run.config.env.some((entry) => entry.startsWith('A='))).toBe(false);
  });

  it('predefined platform args are usable in FROM, and in a stage once declared', () => {
    const graph = plan('FROM --platform=$BUILDPLATFORM scratch AS b\nARG TARGETARCH\nARG BUILDOS\nENV t=$TARGETARCH b=$BUILDOS u=${TARGETOS:-undeclared}', {
      platform: 'linux/arm64/v8',
      buildPlatform: 'linux/amd64',
    });
    expect(graph.stages[0]!.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(graph.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(graph.stages[0]!.steps.at(-1)!.config.env).toEqual(expect.arrayContaining(['t=arm64', 'b=linux', 'u=undeclared']));
  });

  it('a global ARG without a default keeps the predefined value', () => {
    const graph = plan('ARG TARGETARCH\nFROM base-$TARGETARCH', { platform: 'linux/arm64' });
    expect(graph.stages[0]!.base).toEqual({ kind: 'image', ref: 'base-arm64' });
  });

  it('a stage built FROM another stage runs on that stage\'s platform', () => {
    const graph = plan('FROM --platform=$BUILDPLATFORM scratch AS tools\nFROM tools AS gen\nFROM scratch\nCOPY --from=gen / /', {
      platform: 'linux/arm64',
      buildPlatform: 'linux/amd64',
    });
    expect(graph.stages.map((s) => s.platform.architecture)).toEqual(['amd64', 'amd64', 'arm64']);
  });

  it('proxy args reach RUN without ARG, but never history, args or the provenance args', () => {
    const graph = plan('FROM scratch\nRUN curl x', { buildArgs: { HTTP_PROXY: 'http://user:pw@proxy:3128', no_proxy: 'localhost' } });
    const run = graph.stages[0]!.steps[0] as RunStep;
    expect(run.proxy).toEqual({ HTTP_PROXY: 'http://user:pw@proxy:3128', no_proxy: 'localhost' });
    expect(run.createdBy).toBe('RUN /bin/sh -c curl x # buildkit');
    expect(run.args).toEqual({});
    expect(graph.buildArgs).toEqual({});
    expect(graph.warnings).toEqual([]);
  });

  it('warns about build args nothing consumed, and records the consumed ones', () => {
    const graph = plan('ARG USED=1\nFROM scratch\nARG LOCAL\nRUN x', { buildArgs: { USED: '2', LOCAL: 'l', TYPO: 'x', SOURCE_DATE_EPOCH: '0' } });
    expect(graph.warnings.map((w) => w.message)).toEqual(['build args given but not consumed by the target: TYPO']);
    expect(graph.buildArgs).toEqual({ USED: '2', LOCAL: 'l' });
  });

  it('a stage built FROM another stage inherits its args', () => {
    const run = last<RunStep>('FROM scratch AS base\nARG V=1\nFROM base\nRUN use');
    expect(run.args).toEqual({ V: '1' });
    expect(run.createdBy).toBe('RUN |1 V=1 /bin/sh -c use # buildkit');
  });
});

describe('config evolution', () => {
  it('expands ENV PATH=/x:$PATH against the base image env, in place', () => {
    const env = last('FROM debian:12\nENV PATH=/opt/bin:$PATH', { baseImages: BASE }).config.env;
    expect(env).toEqual(['PATH=/opt/bin:/usr/bin:/bin', 'LANG=C.UTF-8']);
  });

  it('all pairs of one ENV see the variables from before it', () => {
    expect(last('FROM scratch\nENV a=1\nENV a=2 b=$a').config.env).toEqual(expect.arrayContaining(['a=2', 'b=1']));
  });

  it('scratch starts with the default PATH and / as working directory, as BuildKit gives it', () => {
    const base = plan('FROM scratch\nUSER x').stages[0]!.baseConfig;
    expect([base.env, base.workdir]).toEqual([['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], '/']);
  });

  it('WORKDIR resolves against the previous one and creates its directory', () => {
    const all = steps('FROM scratch\nWORKDIR /app\nWORKDIR src/../lib\nWORKDIR /') as ConfigStep[];
    expect(all.map((step) => [step.config.workdir, step.createsDir, step.createdBy])).toEqual([
      ['/app', '/app', 'WORKDIR /app'],
      ['/app/lib', '/app/lib', 'WORKDIR /app/lib'],
      ['/', undefined, 'WORKDIR /'],
    ]);
  });

  it('COPY destinations resolve against WORKDIR and keep a trailing slash', () => {
    const all = steps('FROM scratch\nWORKDIR /w\nCOPY a .\nCOPY a b\nCOPY a sub/\nCOPY a /abs') as CopyStep[];
    expect(all.slice(1).map((step) => step.dest)).toEqual(['/w/', '/w/b', '/w/sub/', '/abs']);
  });

  it('shell-form CMD/ENTRYPOINT run through SHELL; ENTRYPOINT resets an inherited CMD', () => {
    const graph = plan('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT exec app', { baseImages: BASE });
    const config = graph.stages[0]!.steps.at(-1)!.config;
    expect(config.entrypoint).toEqual(['/bin/bash', '-c', 'exec app']);
    expect(config.cmd).toBeNull();
    expect(config.explicitShell).toBe(true);
  });

  it('a CMD set in the stage survives a later ENTRYPOINT', () => {
    const config = last('FROM debian:12\nCMD ["--help"]\nENTRYPOINT ["app"]', { baseImages: BASE }).config;
    expect([config.entrypoint, config.cmd, config.argsEscaped]).toEqual([['app'], ['--help'], true]);
  });

  it('LABEL, EXPOSE (ranges, protocols), VOLUME, USER, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER', () => {
    const config = last(
      [
        'FROM debian:12',
        'ARG P=8080',
        'LABEL "a b"="c d" e=$P',
        'EXPOSE $P 53/udp 7000-7001/TCP',
        'VOLUME ["/data"] ',
        'VOLUME /cache $P',
        'USER app:$P',
        'STOPSIGNAL SIGQUIT',
        'HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://localhost/',
        'ONBUILD RUN echo triggered',
        'MAINTAINER someone',
      ].join('\n'),
      { baseImages: BASE },
    ).config;
    expect(config.labels).toEqual({ from: 'debian', 'a b': 'c d', e: '8080' });
    expect(config.exposedPorts).toEqual(['53/udp', '7000/tcp', '7001/tcp', '8080/tcp']);
    expect(config.volumes).toEqual(['/cache', '/data', '8080']);
    expect(config.user).toBe('app:8080');
    expect(config.stopSignal).toBe('SIGQUIT');
    expect(config.healthcheck).toEqual({ Test: ['CMD-SHELL', 'curl -f http://localhost/'], Interval: 90e9, Retries: 3 });
    expect(config.onBuild).toEqual(['RUN echo triggered']);
    expect(config.author).toBe('someone');
  });

  it('HEALTHCHECK NONE disables the inherited check', () => {
    const base = { img: { env: [], healthcheck: { Test: ['CMD', 'true'] } } };
    expect(last('FROM img\nHEALTHCHECK NONE', { baseImages: base }).config.healthcheck).toEqual({ Test: ['NONE'] });
  });

  it.each([
    ['EXPOSE 99999', 'invalid port "99999": invalid containerPort: 99999'],
    ['EXPOSE 80/xyz', 'invalid port "80/xyz": invalid proto: xyz'],
    ['EXPOSE 90-80', 'invalid containerPort: 90-80'],
    ['VOLUME ${EMPTY}', 'VOLUME specified can not be an empty string'],
    ['STOPSIGNAL not a signal!', 'invalid signal'],
    ['STOPSIGNAL SIGFOO', 'invalid signal "SIGFOO"'],
    ['STOPSIGNAL 65', 'invalid signal "65"'],
    ['HEALTHCHECK --interval=5 CMD x', '--interval must be a duration'],
    ['HEALTHCHECK --retries=-1 CMD x', '--retries must be a non-negative integer'],
    ['ENV x=${y', "missing '}'"],
    ['COPY --chmod=999 a b', 'invalid chmod parameter'],
    ['ADD --checksum=sha256:00 a b', 'checksum requires HTTP(S) or Git sources'],
    ['COPY https://example.com/a /a', "source can't be a URL or git ref for COPY"],
    ['COPY git@github.com:org/repo.git /a', "source can't be a URL or git ref for COPY"],
    ['ADD https://example.com/repo.git#-upload-pack=x /a', 'is not a valid branch, tag or commit'],
    ['ADD https://example.com/repo.git#main:../.. /a', 'climbs out of the repository'],
    ['ADD https://example.com/repo.git?branch=main /a', 'query parameters'],
    ['RUN --network=bridge x', '--network must be default or none or host'],
    ['RUN --security=root x', '--security must be sandbox or insecure'],
  ])('rejects %j with its location', (text, message) => {
    const error = planError(`FROM scratch\n${text}`);
    expect(error.message).toContain(message);
    expect(error.location.line).toBe(2);
  });
});

describe('build checks', () => {
  const LINTED = 'from scratch AS Build\nMAINTAINER me\nENV A 1\nLABEL b=2';

  it('name the BuildKit rule of each finding', () => {
    expect(plan(LINTED).warnings.map((w) => [w.rule, w.location?.line])).toEqual([
      ['FromAsCasing', 1],
      ['StageNameCasing', 1],
      ['MaintainerDeprecated', 2],
      ['LegacyKeyValueFormat', 3],
    ]);
  });

  it('# check=skip= silences rules; skip=all silences every rule but not other warnings', () => {
    expect(plan(`# check=skip=FromAsCasing,StageNameCasing\n${LINTED}`).warnings.map((w) => w.rule)).toEqual(['MaintainerDeprecated', 'LegacyKeyValueFormat']);
    const graph = plan(`# check=skip=all\n${LINTED}`, { buildArgs: { UNUSED: '1' } });
    expect(graph.warnings.map((w) => w.message)).toEqual(['build args given but not consumed by the target: UNUSED']);
  });

  it('# check=error=true fails on the first finding, with its rule; the build arg overrides the directive', () => {
    const error = planError(`# check=error=true\n${LINTED}`);
    expect(error.code).toBe('E_RECIPE_CHECK');
    expect(error.message).toBe(`"AS" and "from" keywords' casing do not match (build check FromAsCasing)`);
    expect(error.location.line).toBe(2);
    expect(() => plan(`# check=error=true\n${LINTED}`, { buildArgs: { BUILDKIT_DOCKERFILE_CHECK: 'skip=all' } })).not.toThrow();
  });

  it('SecretsUsedInArgOrEnv, ReservedStageName, MultipleInstructionsDisallowed, JSONArgsRecommended', () => {
    const text = [
      'FROM scratch AS scratch',
      'ARG API_KEY PUBLIC_KEY MONKEY',
      'ENV DB_PASSWORD=x',
      'CMD run',
      'CMD ["run"]',
      'SHELL ["/bin/sh", "-c"]',
      'ENTRYPOINT serve',
    ].join('\n');
    expect(plan(text).warnings.map((w) => [w.rule, w.location?.line, w.location?.column])).toEqual([
      ['ReservedStageName', 1, 6],
      ['SecretsUsedInArgOrEnv', 2, 5],
      ['SecretsUsedInArgOrEnv', 3, 5],
      ['MultipleInstructionsDisallowed', 4, 1],
      ['JSONArgsRecommended', 4, 1],
    ]);
  });

  it('UndefinedVar: a variable used without fallback that nothing sets or declares, with a suggestion', () => {
    const text = 'FROM scratch\nARG VERSION=1\nARG DECLARED\nENV A=$VERISON B=${DECLARED} C=${MISSING:-ok} D=${GONE#x}\nCOPY --chown=$USR a b';
    expect(plan(text).warnings.map((w) => w.message)).toEqual([
      "usage of undefined variable '$VERISON' (did you mean $VERSION?)",
      "usage of undefined variable '$GONE'",
      "usage of undefined variable '$USR'",
    ]);
  });

  it('UndefinedVar is not reported where an unresolved base image may set the variable', () => {
    expect(plan('FROM somewhere\nENV PATH=/x:$PATH').warnings.map((w) => w.rule ?? 'other')).toEqual(['other']);
  });

  it('UndefinedArgInFrom: FROM uses a name no global ARG declares', () => {
    const graph = plan('ARG OK=1\nFROM img:$OK-$TAG', { buildArgs: { TAG: 'x' } });
    expect(graph.warnings.map((w) => [w.rule, w.message])).toEqual([
      ['UndefinedArgInFrom', "FROM argument 'TAG' is not declared: add ARG TAG before the first FROM"],
      [undefined, 'base image img:1- was not resolved: planned without its config (its ENV, WORKDIR, USER … are missing)'],
      [undefined, 'build args given but not consumed by the target: TAG'],
    ]);
  });

  it('reports settings it does not understand', () => {
    expect(plan('# check=warn=all\nFROM scratch').warnings.map((w) => w.message)).toEqual(['unknown build-check setting "warn=all" ignored (use skip=Rule1,Rule2 or error=true)']);
  });
});

describe('history text (created_by) as BuildKit writes it', () => {
  it.each([
    ['RUN make -j2', 'RUN /bin/sh -c make -j2 # buildkit'],
    ['RUN ["make", "-j2"]', 'RUN make -j2 # buildkit'],
    ['ARG A=1\nARG B\nRUN make', 'RUN |2 A=1 B= /bin/sh -c make # buildkit'],
    ['ARG A=1\nENV A=2\nRUN make', 'RUN |1 A=2 /bin/sh -c make # buildkit'],
    ['SHELL ["/bin/bash", "-c"]\nRUN make', 'RUN /bin/bash -c make # buildkit'],
    ['COPY --chown=1:2 --chmod=644 --link a b /dst/', 'COPY --chown=1:2 --chmod=644 a b /dst/ # buildkit'],
    ['COPY --parents a/b ./', 'COPY --parents a/b ./ # buildkit'],
    ['ARG D=/x\nCOPY file $D', 'COPY file /x # buildkit'],
    ['ADD https://example.com/f.tgz /', 'ADD https://example.com/f.tgz / # buildkit'],
    ['ADD --keep-git-dir https://x-token:t0ken@example.com/r.git#v1:src /src', 'ADD https://***@example.com/r.git#v1:src /src # buildkit'],
    ['COPY <<EOF /etc/motd\nhi\nEOF', 'COPY <<EOF /etc/motd # buildkit'],
    ['ENV A=b C="d e"', 'ENV A=b C=d e'],
    ['LABEL a=b', 'LABEL a=b'],
    ['WORKDIR /app', 'WORKDIR /app'],
    ['USER 1000:1000', 'USER 1000:1000'],
    ['EXPOSE 80 53/udp', 'EXPOSE [80/tcp 53/udp]'],
    ['ARG PORTS="8080 9000-9001/udp"\nEXPOSE $PORTS 127.0.0.1:80:8443', 'EXPOSE [8080/tcp 9000/udp 9001/udp 8443/tcp]'],
    ['VOLUME /a /b', 'VOLUME [/a /b]'],
    ['CMD echo "hi"', 'CMD ["/bin/sh" "-c" "echo \\"hi\\""]'],
    ['ENTRYPOINT ["app", "--flag"]', 'ENTRYPOINT ["app" "--flag"]'],
    ['SHELL ["/bin/bash", "-c"]', 'SHELL [/bin/bash -c]'],
    ['STOPSIGNAL 9', 'STOPSIGNAL 9'],
    ['STOPSIGNAL sigrtmin+3', 'STOPSIGNAL sigrtmin+3'],
    ['STOPSIGNAL quit', 'STOPSIGNAL quit'],
    ['ARG X=1 Y', 'ARG X=1 Y'],
    ['MAINTAINER me', 'MAINTAINER me'],
    ['HEALTHCHECK --interval=30s --timeout=500ms CMD check', 'HEALTHCHECK {Test:[CMD-SHELL check] Interval:30s Timeout:500ms StartPeriod:0s StartInterval:0s Retries:0}'],
  ])('%j', (text, createdBy) => {
    expect(last(`FROM scratch\n${text}`).createdBy).toBe(createdBy);
  });

  it('ONBUILD writes no history entry', () => {
    expect(last<ConfigStep>('FROM scratch\nONBUILD RUN x').noHistory).toBe(true);
  });
});

describe('RUN heredocs', () => {
  it('a lone <<EOF runs its body as the script', () => {
    const run = last<RunStep>('FROM scratch\nRUN <<EOF\nset -e\necho $HOME\nEOF');
    expect(run.command).toEqual({ form: 'shell', script: 'set -e\necho $HOME\n' });
    expect(run.heredocs).toEqual([]);
  });

  it('a body starting with #! runs as a file under /dev/pipes', () => {
    const run = last<RunStep>('FROM scratch\nRUN <<script\n#!/usr/bin/env python3\nprint(1)\nscript');
    expect(run.command).toEqual({ form: 'shell', script: '/dev/pipes/script' });
    expect(run.heredocs).toEqual([{ name: 'script', content: '#!/usr/bin/env python3\nprint(1)\n', quoted: false, chomp: false }]);
  });

  it('other heredocs are handed to the shell with their bodies appended', () => {
    const run = last<RunStep>("FROM scratch\nRUN <<A cat > /a && <<'B' cat > /b\none\nA\n$two\nB");
    expect(run.command).toEqual({ form: 'shell', script: "<<A cat > /a && <<'B' cat > /b\none\nA\n$two\nB" });
  });
});

describe('COPY heredocs', () => {
  it('expands unquoted bodies (quotes are plain text), keeps quoted ones verbatim', () => {
    const all = steps(`FROM scratch\nARG NAME=world\nCOPY <<EOF /a\nhello '$NAME' \\$HOME\nEOF\nCOPY <<"EOF" /b\nhello $NAME\nEOF`) as CopyStep[];
    expect(all[1]!.heredocs[0]!.content).toBe("hello 'world' $HOME\n");
    expect(all[2]!.heredocs[0]!.content).toBe('hello $NAME\n');
  });
});

describe('RUN --mount', () => {
  const mountOf = (spec: string, pre = '') => last<RunStep>(`FROM scratch AS s\nFROM scratch\nWORKDIR /w\n${pre}RUN --mount=${spec} x`).mounts[0]!;

  it('parses every type with Docker defaults', () => {
    expect(mountOf('type=cache,target=/root/.cache')).toEqual({
      type: 'cache', target: '/root/.cache', id: '/root/.cache', sharing: 'shared', readonly: false, uid: 0, gid: 0, mode: 0o755,
    });
    expect(mountOf('type=cache,id=npm,dst=rel,sharing=locked,uid=1000,gid=1000,mode=0700,ro')).toMatchObject({
      target: '/w/rel', id: 'npm', sharing: 'locked', readonly: true, uid: 1000, gid: 1000, mode: 0o700,
    });
    expect(mountOf('target=/src')).toEqual({ type: 'bind', target: '/src', source: '/', from: { kind: 'context' }, readwrite: false });
    expect(mountOf('type=bind,from=s,source=/out,target=/in,rw')).toEqual({ type: 'bind', target: '/in', source: '/out', from: { kind: 'stage', stage: 0 }, readwrite: true });
    expect(mountOf('type=tmpfs,target=/tmp,size=64m')).toEqual({ type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024 });
    expect(mountOf('type=secret,id=npmrc')).toEqual({ type: 'secret', id: 'npmrc', target: '/run/secrets/npmrc', required: false, uid: 0, gid: 0, mode: 0o400 });
    expect(mountOf('type=secret,id=tok,env=TOKEN,required')).toMatchObject({ id: 'tok', target: '', env: 'TOKEN', required: true });
    expect(mountOf('type=ssh')).toEqual({ type: 'ssh', id: 'default', target: '/run/buildkit/ssh_agent.0', required: false, uid: 0, gid: 0, mode: 0o600 });
    expect(mountOf('type=ssh,id=git,target=agent.sock,required,uid=1000,gid=1000,mode=0660')).toEqual({
      type: 'ssh', id: 'git', target: '/w/agent.sock', required: true, uid: 1000, gid: 1000, mode: 0o660,
    });
  });

  it('reads booleans as Go does, and numbers ssh sockets', () => {
    expect(mountOf('type=bind,target=/x,rw=1')).toMatchObject({ readwrite: true });
    expect(mountOf('type=cache,target=/x,readonly=False')).toMatchObject({ readonly: false });
    const run = last<RunStep>('FROM scratch\nRUN --mount=type=ssh --mount=type=ssh,id=other x');
    expect(run.mounts.map((m) => m.target)).toEqual(['/run/buildkit/ssh_agent.0', '/run/buildkit/ssh_agent.1']);
    // N is the index among all the step's ssh mounts, as BuildKit's llb numbers them.
    const mixed = last<RunStep>('FROM scratch\nRUN --mount=type=ssh,target=/a --mount=type=tmpfs,target=/t --mount=type=ssh x');
    expect(mixed.mounts.map((m) => m.target)).toEqual(['/a', '/t', '/run/buildkit/ssh_agent.1']);
  });

  it('expands values after splitting, so a variable cannot add an option', () => {
    const mount = mountOf('type=cache,target=$T,id=$I', 'ARG T=/c\nARG I="a,bind-propagation=shared"\n');
    expect(mount).toMatchObject({ target: '/c', id: 'a,bind-propagation=shared' });
  });

  it('makes the stage a dependency of from=', () => {
    expect(plan('FROM scratch AS s\nFROM scratch\nRUN --mount=from=s,target=/s x').stages.at(-1)!.dependsOn).toEqual([0]);
  });

  it.each([
    ['type=bind,target=/x,bind-propagation=rshared', 'unknown option "bind-propagation" for type=bind'],
    ['type=cache,target=/x,size=1', 'unknown option "size" for type=cache'],
    ['type=bogus,target=/x', 'unknown mount type "bogus"'],
    ['type=cache', 'target is required'],
    ['type=cache,target=/x,id=../../etc', 'cache id "../../etc" is not allowed'],
    ['type=cache,target=/x,id=a/../../b', 'is not allowed'],
    ['type=secret,id=../x', 'secret id "../x" is not allowed'],
    ['type=secret,id=a/b', 'secret id "a/b" is not allowed'],
    ['type=secret', 'a secret mount needs id='],
    ['type=cache,target=/x,sharing=everyone', 'sharing must be shared, private or locked'],
    ['type=cache,target=/x,mode=rwx', 'mode must be octal'],
    ['type=cache,target=/x,uid=-1', 'uid must be a non-negative integer'],
    ['type=bind,target=/x,rw=maybe', 'rw must be true or false'],
    ['type=tmpfs,target=/x,size=lots', 'size must be bytes'],
    ['type=cache,target=/x,,id=a', 'empty option'],
    ['type=cache,target=/x,target=/y', 'given twice'],
    
    ['type=bind,target=/x,from=0', 'circular dependency'],
  ])('rejects %j at the flag', (spec, message) => {
    const error = planError(`FROM scratch\nRUN --mount=${spec} x`);
    expect(error.message).toContain(message);
    expect(error.location).toMatchObject({ file: 'Dockerfile', line: 2, column: 5 });
  });

  it('rejects NUL in an expanded value', () => {
    expect(planError('FROM scratch\nARG N\nRUN --mount=type=cache,target=/x,id=$N x', { buildArgs: { N: 'a\0b' } }).message).toContain('NUL');
  });

  it('rejects two mounts on one target', () => {
    expect(planError('FROM scratch\nRUN --mount=type=tmpfs,target=/x --mount=type=cache,target=/x y').message).toContain('two mounts target /x');
  });
});

describe('stage graph', () => {
  const MULTI = [
    'FROM scratch AS deps',
    'FROM deps AS build',
    'COPY --from=0 /a /a',
    'FROM scratch AS unused',
    'ENV x=${broken',
    'FROM scratch AS test',
    'COPY --from=build /b /b',
    'FROM scratch',
    'COPY --from=build /out /out',
    'COPY --from=registry.example/tools:1 /bin/tool /bin/',
  ].join('\n');

  it('plans only what the target needs, dependencies first', () => {
    const graph = plan(MULTI);
    expect(graph.target).toBe(4);
    expect(graph.stages.map((stage) => [stage.index, stage.name ?? null, stage.dependsOn])).toEqual([
      [0, 'deps', []],
      [1, 'build', [0]],
      [4, null, [1]],
    ]);
    expect(graph.stages[1]!.base).toEqual({ kind: 'stage', stage: 0 });
    expect(graph.stages[2]!.imageInputs).toEqual(['registry.example/tools:1']);
  });

  it('--target prunes by name (any case) or index', () => {
    expect(plan(MULTI, { target: 'TEST' }).stages.map((s) => s.index)).toEqual([0, 1, 3]);
    expect(plan(MULTI, { target: '1' }).stages.map((s) => s.index)).toEqual([0, 1]);
  });

  it('an unknown --target is a build error listing the stages', () => {
    expect(() => plan(MULTI, { target: 'nope' })).toThrow(BuildError);
    expect(() => plan(MULTI, { target: 'nope' })).toThrow('target stage "nope" could not be found');
  });

  it('an unused stage with errors does not fail the build', () => {
    expect(() => plan(MULTI, { target: 'build' })).not.toThrow();
    expect(planError(MULTI, { target: 'unused' }).location.line).toBe(5);
  });

  it('COPY --from a later stage is an error (it would make a cycle), as is a stage using itself', () => {
    const cycle = planError('FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /y /y');
    expect(cycle.code).toBe('E_RECIPE_CYCLE');
    expect(cycle.message).toBe('circular dependency between stages "a" and "b" (line 3): each uses the other');
    expect(cycle.location).toMatchObject({ line: 2, column: 6 });
    expect(planError('FROM scratch AS a\nCOPY --from=a /x /y').message).toContain('circular dependency: stage "a" uses itself');
    expect(planError('FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b', { target: 'a' }).message).toBe('stage "a" uses stage "b", defined later (line 3): a stage can only use stages defined before it');
    expect(planError('FROM scratch AS a\nRUN --mount=from=1,target=/x y\nFROM a').message).toContain('circular dependency between stages "a" and "1"');
  });

  it('a --from name close to a stage name is read as an image, with a did-you-mean warning', () => {
    const graph = plan('FROM scratch AS build\nFROM scratch\nCOPY --from=biuld /a /b');
    expect(graph.stages.at(-1)!.imageInputs).toEqual(['biuld']);
    expect(graph.warnings).toEqual([{ message: 'no stage is named "biuld", so it is read as an image: did you mean stage "build"?', location: { file: 'Dockerfile', line: 3, column: 6 } }]);
  });

  it('an out-of-range stage index is an error', () => {
    expect(planError('FROM scratch\nCOPY --from=3 /x /y').message).toContain('invalid stage index 3');
  });

  it('FROM a name defined later is an image, not a stage', () => {
    expect(plan('FROM later\nFROM scratch AS later').stages).toHaveLength(1);
    expect(plan('FROM later\nFROM scratch AS later', { target: '0' }).stages[0]!.base).toEqual({ kind: 'image', ref: 'later' });
  });

  it('a blank base after expansion is an error', () => {
    expect(planError('ARG IMG\nFROM $IMG').message).toContain('base name ($IMG) should not be blank');
  });

  it('an unresolved base image is planned with an empty config and a warning', () => {
    const graph = plan('FROM alpine\nRUN x');
    expect(graph.warnings[0]!.message).toContain('base image alpine was not resolved');
    expect(graph.stages[0]!.baseConfig.env).toEqual([]);
  });
});

describe("ONBUILD triggers of the base", () => {
  it('run first in the stage, and are not inherited', () => {
    const base = { 'app-base': { env: [], onBuild: ['COPY . /src', 'RUN make -C /src'] } };
    const graph = plan('FROM app-base\nRUN test', { baseImages: base });
    const all = graph.stages[0]!.steps;
    expect(all.map((step) => [step.kind, step.instruction])).toEqual([
      ['copy', 'ONBUILD COPY . /src'],
      ['run', 'ONBUILD RUN make -C /src'],
      ['run', 'RUN test'],
    ]);
    expect(all.every((step) => step.location.line === 1)).toBe(false);
    expect(all[0]!.location.line).toBe(1);
    expect(graph.stages[0]!.baseConfig.onBuild).toEqual([]);
  });

  it('the triggers of a stage run in a stage built FROM it, once', () => {
    const graph = plan('FROM scratch AS base\nONBUILD RUN echo triggered\nFROM base AS mid\nRUN after\nFROM mid');
    expect(graph.stages.map((stage) => stage.steps.map((step) => step.instruction))).toEqual([
      ['ONBUILD RUN echo triggered'],
      ['ONBUILD RUN echo triggered', 'RUN after'],
      [],
    ]);
    expect(graph.stages[1]!.steps[0]!.location.line).toBe(3);
  });

  it('a broken trigger is reported at the FROM that brought it in', () => {
    const error = planError('FROM bad\nRUN x', { baseImages: { bad: { env: [], onBuild: ['BOGUS x'] } } });
    expect(error.message).toBe('ONBUILD trigger of the base: unknown instruction: BOGUS');
    expect(error.location.line).toBe(1);
  });
});

describe('baseImageRefs', () => {
  it('lists expanded base and COPY --from images of the target only', () => {
    const recipe = parseRecipe(
      'ARG V=3.19\nFROM alpine:$V AS a\nFROM scratch AS s\nFROM a\nCOPY --from=s / /\nCOPY --from=tools:1 /t /t\nFROM ignored:1 AS other',
      'Dockerfile',
    );
    expect(baseImageRefs(recipe, { target: '2', buildArgs: { V: '3.20' } })).toEqual(['alpine:3.20', 'tools:1']);
  });
});

describe('named contexts (--build-context)', () => {
  const named = (contexts: PlanOptions['namedContexts']): PlanOptions => ({ namedContexts: contexts, baseImages: BASE });

  it('a local dir wins over the stage of its name: COPY --from reads it, and the stage is not planned', () => {
    const graph = plan('FROM scratch AS src\nCOPY missing /\n\nFROM debian:12\nCOPY --from=SRC /a /a\nRUN --mount=from=src,target=/m true\n', named({ src: { kind: 'dir' } }));
    expect(graph.stages.map((stage) => stage.name ?? stage.index)).toEqual([1]);
    const [copy, run] = graph.stages[0]!.steps as [CopyStep, RunStep];
    expect(copy.from).toEqual({ kind: 'named', name: 'src' });
    expect(run.mounts[0]).toMatchObject({ type: 'bind', from: { kind: 'named', name: 'src' } });
  });

  it('docker-image://REF stands for the image REF in FROM and --from, and is what a pull fetches', () => {
    const text = 'FROM base\nCOPY --from=tools /bin/x /x\n';
    const options = named({ base: { kind: 'image', ref: 'debian:12' }, tools: { kind: 'image', ref: 'tools:2' } });
    const graph = plan(text, options);
    expect(graph.stages[0]!.base).toEqual({ kind: 'image', ref: 'debian:12' });
    expect((graph.stages[0]!.steps[0] as CopyStep).from).toEqual({ kind: 'image', ref: 'tools:2' });
    expect(baseImageRefs(parseRecipe(text, 'Dockerfile'), options)).toEqual(['debian:12', 'tools:2']);
  });

  it('FROM a local dir starts from its files, with no image config', () => {
    const graph = plan('FROM DOCS\nRUN true\n', named({ docs: { kind: 'dir' } }));
    expect(graph.stages[0]!.base).toEqual({ kind: 'named', name: 'docs' });
    expect(graph.stages[0]!.baseConfig).toEqual(plan('FROM scratch\nRUN true\n').stages[0]!.baseConfig);
  });
});
