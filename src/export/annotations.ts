// `--annotation` as buildx spells it: `KEY=VALUE` (on the image manifest), or
// `TYPE[,TYPE…]:KEY=VALUE` with TYPE one of manifest, manifest-descriptor, index,
// index-descriptor, each optionally limited to a platform (`manifest[linux/amd64]:…`).
// tsbuild builds one platform, so there is no image index of its own: `index` lands on the
// index.json of OCI layout outputs (BuildKit refuses it for a one-platform build), and
// `index-descriptor` has nowhere to go. An annotation no requested output can carry is refused
// before the build, as BuildKit refuses it after.

import { UsageError } from '../errors.js';
import { formatPlatform, platformMatches, type PlatformName } from '../lib/platform.js';

export const ANNOTATION_TYPES = ['manifest', 'manifest-descriptor', 'index', 'index-descriptor'] as const;
export type AnnotationType = (typeof ANNOTATION_TYPES)[number];

export interface Annotation {
  type: AnnotationType;
  /** Only for an image of this platform; every platform when absent. */
  platform?: PlatformName;
  key: string;
  value: string;
}

/** What an image and its layout outputs carry, by where it goes. */
export interface ImageAnnotations {
  /** On the image manifest itself: part of the image digest. */
  manifest: Record<string, string>;
  /** On the manifest's descriptor in an OCI layout's index.json. */
  manifestDescriptor: Record<string, string>;
  /** On an OCI layout's index.json. */
  index: Record<string, string>;
}

const SPEC_HINT = 'Write --annotation KEY=VALUE or TYPE:KEY=VALUE, TYPE one of manifest, manifest-descriptor, index, index-descriptor, optionally TYPE[os/arch]; e.g. --annotation index:org.opencontainers.image.title=app.';

/** One `--annotation` value: an annotation per type it names. */
export function parseAnnotation(text: string): Annotation[] {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UsageError(`invalid --annotation "${text}": expected KEY=VALUE`, { hint: SPEC_HINT });
  const spec = text.slice(0, eq);
  const value = text.slice(eq + 1);
  const colon = spec.indexOf(':');
  const key = colon < 0 ? spec : spec.slice(colon + 1);
  if (key === '') throw new UsageError(`invalid --annotation "${text}": the key is empty`, { hint: SPEC_HINT });
  if (colon < 0) return [{ type: 'manifest', key, value }];
  return spec.slice(0, colon).split(',').map((typeText) => ({ ...parseAnnotationType(typeText, text), key, value }));
}

/** `manifest`, `index[linux/arm64]` …: a type and its optional platform, as buildx's pattern reads them. */
function parseAnnotationType(typeText: string, text: string): Pick<Annotation, 'type' | 'platform'> {
  const match = /^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$/.exec(typeText);
  if (!match) throw new UsageError(`invalid --annotation "${text}": "${typeText}" is not a type with an optional [platform]`, { hint: SPEC_HINT });
  const [, type, platform] = match;
  if (!(ANNOTATION_TYPES as readonly string[]).includes(type!)) {
    throw new UsageError(`invalid --annotation "${text}": unknown annotation type "${type}"`, { hint: SPEC_HINT });
  }
  return { type: type as AnnotationType, ...(platform === undefined ? {} : { platform: parseAnnotationPlatform(platform, text) }) };
}

function parseAnnotationPlatform(platform: string, text: string): PlatformName {
  const [os, architecture, variant, ...rest] = platform.toLowerCase().split('/');
  if (!os || !architecture || variant === '' || rest.length > 0) {
    throw new UsageError(`invalid --annotation "${text}": invalid platform "${platform}"`, { hint: 'Write the platform as os/arch[/variant], e.g. manifest[linux/arm64]:KEY=VALUE.' });
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * The annotations of an image of `platform`, sorted by where they go. `hasLayout`: an output
 * with an index.json is requested (`-o type=oci|docker`); without one, `index` and
 * `manifest-descriptor` annotations have nowhere to go and are refused, as are a platform
 * this build does not make and `index-descriptor`.
 */
export function imageAnnotations(annotations: readonly Annotation[], platform: PlatformName, hasLayout: boolean): ImageAnnotations {
  const sorted: ImageAnnotations = { manifest: {}, manifestDescriptor: {}, index: {} };
  for (const annotation of annotations) {
    refuseUncarried(annotation, platform, hasLayout);
    const where = annotation.type === 'manifest' ? sorted.manifest : annotation.type === 'index' ? sorted.index : sorted.manifestDescriptor;
    where[annotation.key] = annotation.value;
  }
  return sorted;
}

function refuseUncarried(annotation: Annotation, platform: PlatformName, hasLayout: boolean): void {
  const name = `--annotation ${annotation.type}${annotation.platform ? `[${formatPlatform(annotation.platform)}]` : ''}:${annotation.key}`;
  if (annotation.type === 'index-descriptor') {
    throw new UsageError(`${name}: tsbuild builds one platform, so there is no image index whose descriptor could carry it`, {
      hint: 'Use index: (on the index.json of -o type=oci) or manifest-descriptor: instead.',
    });
  }
  if (annotation.platform && !platformMatches(platform, annotation.platform)) {
    throw new UsageError(`${name}: this build makes no image for ${formatPlatform(annotation.platform)}, only for ${formatPlatform(platform)}`, {
      hint: `Name the platform this build makes (--platform), or leave the [platform] out.`,
    });
  }
  if (!hasLayout && annotation.type !== 'manifest') {
    throw new UsageError(`${name}: no output of this build has an index.json to carry it`, {
      hint: 'Add -o type=oci,dest=image.tar (or type=docker), or annotate the manifest itself (manifest:KEY=VALUE).',
    });
  }
}
