// `--provenance`, `--sbom` and `--attest`, read as buildx reads them. tsbuild attaches no
// attestation to images (the SLSA provenance of a build travels in its archive, `--archive`),
// which is what these flags ask buildx for when they turn its default provenance off: so the
// values that mean "none" are accepted and change nothing, and a value asking for an
// attestation is a usage error that says what to use instead.

import { UsageError } from '../errors.js';

export interface AttestationFlags {
  provenance?: string | boolean;
  sbom?: string | boolean;
  attest: string[];
}

interface Attestation {
  type: string;
  disabled: boolean;
  /** The flag as given, for messages. */
  flag: string;
}

/** What each type is called in messages, and what to do instead. */
const TYPES: Record<string, { noun: string; remedy: string }> = {
  provenance: {
    noun: 'a provenance attestation',
    remedy: 'tsbuild attaches no provenance to images; --archive FILE keeps the whole build with an in-toto SLSA v1 provenance of it. Drop the flag, or pass --provenance=false.',
  },
  sbom: {
    noun: 'an SBOM attestation',
    remedy: 'tsbuild makes no SBOM; an SBOM generator can read the image from -o type=oci,dest=image.tar. Drop the flag, or pass --sbom=false.',
  },
};

/** Accepts attestation flags that ask for none; throws a UsageError for any that asks for one. */
export function refuseAttestations(flags: AttestationFlags): void {
  const attestations = [
    ...shorthand('provenance', flags.provenance),
    ...shorthand('sbom', flags.sbom),
    ...flags.attest.map((value) => parseAttest(value, `--attest ${value}`)),
  ];
  const seen = new Set<string>();
  for (const attestation of attestations) {
    // buildx refuses two flags for one type too, even when they agree.
    if (seen.has(attestation.type)) throw new UsageError(`${attestation.flag}: the ${attestation.type} attestation is given twice`, { hint: 'Give each attestation type once.' });
    seen.add(attestation.type);
    if (!attestation.disabled) {
      const { noun, remedy } = TYPES[attestation.type]!;
      throw new UsageError(`${attestation.flag} asks for ${noun}, which tsbuild does not attach to images`, { hint: remedy });
    }
  }
}

/**
 * `--provenance VALUE` / `--sbom VALUE` as buildx canonicalises them: a boolean turns the type
 * on or off, anything else is that type's attributes (`mode=max`). yargs gives `false` for
 * `--no-provenance`, and "" for a flag without a value (buildx ignores an empty one).
 */
function shorthand(type: string, value: string | boolean | undefined): Attestation[] {
  if (value === undefined || value === '') return [];
  const text = String(value);
  const flag = `--${type}=${text}`;
  const enabled = goBool(text);
  return [enabled === undefined ? parseAttest(`type=${type},${text}`, flag) : { type, disabled: !enabled, flag }];
}

/** `type=T[,disabled=BOOL][,ATTR=VALUE…]`, as buildx's attest parser reads it. */
function parseAttest(value: string, flag: string): Attestation {
  let type: string | undefined;
  let disabled = false;
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid ${flag}: "${field}" is not KEY=VALUE`, { hint: 'e.g. --attest type=provenance,disabled=true' });
    const key = field.slice(0, eq).trim().toLowerCase();
    const fieldValue = field.slice(eq + 1);
    if (key === 'type') type = fieldValue;
    if (key === 'disabled') disabled = parseDisabled(fieldValue, flag);
  }
  if (!type) throw new UsageError(`invalid ${flag}: type= is missing`, { hint: 'e.g. --attest type=provenance,disabled=true' });
  if (!(type in TYPES)) throw new UsageError(`invalid ${flag}: unknown attestation type "${type}"`, { hint: 'The types are provenance and sbom.' });
  return { type, disabled, flag };
}

function parseDisabled(value: string, flag: string): boolean {
  const parsed = goBool(value);
  if (parsed === undefined) throw new UsageError(`invalid ${flag}: disabled=${value} is not a boolean`, { hint: 'write disabled=true or disabled=false' });
  return parsed;
}

/** Go's strconv.ParseBool, which buildx reads these values with. */
function goBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
