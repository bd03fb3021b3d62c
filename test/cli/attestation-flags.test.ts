// `--provenance`, `--sbom` and `--attest` read as buildx reads them: the values that ask for no
// attestation pass, any that asks for one is a usage error that says what to use instead.

import { describe, expect, it } from 'vitest';
import { refuseAttestations, type AttestationFlags } from '../../src/cli/attestation-flags.js';

const flags = (given: Partial<AttestationFlags>): AttestationFlags => ({ attest: [], ...given });

describe('attestation flags', () => {
  it.each<Partial<AttestationFlags>>([
    {},
    { provenance: 'false' }, { provenance: '0' }, { provenance: 'f' }, { provenance: 'FALSE' }, { provenance: 'False' },
    { provenance: false }, // --no-provenance, as yargs reads it
    { provenance: '' }, // buildx ignores an empty value
    { provenance: 'disabled=true' },
    { sbom: 'false' },
    { attest: ['type=provenance,disabled=true'] },
    { attest: ['type=sbom,disabled=1', 'type=provenance,mode=max,disabled=true'] },
    { provenance: '0', attest: ['TYPE=sbom,Disabled=T'] },
  ])('accepts %o', (given) => {
    expect(() => refuseAttestations(flags(given))).not.toThrow();
  });

  it.each<[Partial<AttestationFlags>, string, string]>([
    [{ provenance: 'true' }, '--provenance=true asks for a provenance attestation', '--archive'],
    [{ provenance: '1' }, '--provenance=1 asks for a provenance attestation', '--provenance=false'],
    [{ provenance: 'mode=max' }, '--provenance=mode=max asks for', '--archive'],
    [{ sbom: 'true' }, '--sbom=true asks for an SBOM attestation', '--sbom=false'],
    [{ attest: ['type=provenance'] }, '--attest type=provenance asks for', '--archive'],
    [{ attest: ['type=sbom,disabled=false'] }, '--attest type=sbom,disabled=false asks for', '--sbom=false'],
    [{ attest: ['disabled=true'] }, 'type= is missing', 'type=provenance'],
    [{ attest: ['type=spdx,disabled=true'] }, 'unknown attestation type "spdx"', 'provenance and sbom'],
    [{ attest: ['type=provenance,disabled=maybe'] }, 'disabled=maybe is not a boolean', 'disabled=true'],
    [{ attest: ['type=provenance,off'] }, '"off" is not KEY=VALUE', 'disabled=true'],
    [{ provenance: 'false', attest: ['type=provenance,disabled=true'] }, 'the provenance attestation is given twice', 'once'],
  ])('refuses %o', (given, message, hint) => {
    expect(() => refuseAttestations(flags(given))).toThrow(expect.objectContaining({
      code: 'E_USAGE', message: expect.stringContaining(message), hint: expect.stringContaining(hint),
    }));
  });
});
