// An in-toto v1 statement with a SLSA v1 provenance predicate for a build: what was built
// (the image digest), from what (recipe, context, named contexts, base images, args) and by
// what (tsbuild, helper, kernel), and which steps were not hermetic and so not expected to
// replay bit for bit.

import { sha256 } from '../lib/digest.js';
import type { GitOrigin } from '../lib/git-url.js';
import type { ArchivedBuildInfo } from './build-record.js';

export const BUILD_TYPE = 'https://tsbuild.dev/build/dockerfile/v1';

function digestMap(digest: string): Record<string, string> {
  const [alg, hex] = digest.split(':');
  return { [alg!]: hex! };
}

/** A git context as SLSA names a repository at a commit. */
function gitDependency(origin: GitOrigin): { uri: string; digest: Record<string, string> } {
  return { uri: `git+${origin.url}`, digest: { gitCommit: origin.commit } };
}

/** What an `ADD <url>` fetched: a URL with the digest of its content, or a repository at a commit. */
function fetchedDependency(fetched: { uri: string; digest: string }): { uri: string; digest: Record<string, string> } {
  const commit = /^git-commit:(.+)$/.exec(fetched.digest)?.[1];
  return commit !== undefined ? gitDependency({ url: fetched.uri, commit }) : { uri: fetched.uri, digest: digestMap(fetched.digest) };
}

export function provenanceStatement(info: ArchivedBuildInfo, recipeDigest: string, contextDigest: string): unknown {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: info.names[0] ?? 'image', digest: digestMap(info.final) }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          recipe: info.recipe,
          target: info.target,
          buildArgs: info.buildArgs,
          platform: info.platform,
          network: info.network,
          sandbox: info.sandbox,
          sourceDateEpoch: info.sourceDateEpoch,
        },
        internalParameters: {
          nonHermeticSteps: info.steps.filter((s) => !s.hermetic).map((s) => ({ step: s.id, instruction: s.instruction })),
        },
        resolvedDependencies: [
          { uri: `recipe:${info.recipe}`, digest: digestMap(recipeDigest) },
          { uri: 'context:', digest: digestMap(contextDigest) },
          ...(info.contextGit ? [gitDependency(info.contextGit)] : []),
          ...(info.namedContexts ?? []).flatMap((named) => (named.kind === 'dir'
            ? [{ uri: `context:${named.name}`, digest: digestMap(named.context) }, ...(named.git ? [gitDependency(named.git)] : [])]
            : [])),
          ...info.baseImages.map((base) => ({ uri: `docker-image:${base.ref}`, digest: digestMap(base.digest) })),
          ...info.steps.flatMap((step) => (step.fetched ? [fetchedDependency(step.fetched)] : [])),
        ],
      },
      runDetails: {
        builder: { id: `tsbuild@${info.versions.tsbuild}`, version: info.versions },
        metadata: {
          invocationId: sha256(`${info.final}${info.startedOn}`).slice('sha256:'.length, 'sha256:'.length + 16),
          startedOn: info.startedOn,
          finishedOn: info.finishedOn,
        },
      },
    },
  };
}
