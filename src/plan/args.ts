// Build-arg scoping as Docker defines it: global ARGs (before the first FROM) are visible in
// FROM lines only; a stage sees an arg once it declares it (`ARG name` picks up the global
// value); `--build-arg` overrides every default; ENV beats ARG when both name a variable.

/** Proxy args: usable in RUN without an ARG line, and never recorded in history or cache keys. */
export const PROXY_ARG_NAMES: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

export function isProxyArg(name: string): boolean {
  return PROXY_ARG_NAMES.includes(name);
}

/** The args a stage has declared so far, in declaration order; undefined = declared, unset. */
export class ArgScope {
  private readonly values = new Map<string, string | undefined>();

  declare(name: string, value: string | undefined): void {
    // Redeclaring moves nothing: Docker keeps the first position and the newest value.
    this.values.set(name, value);
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Every declared arg, set or not, in declaration order. */
  declared(): Array<[string, string | undefined]> {
    return [...this.values];
  }

  clone(): ArgScope {
    const copy = new ArgScope();
    for (const [name, value] of this.values) copy.declare(name, value);
    return copy;
  }

  /** Declared args with a value, in declaration order. */
  entries(): Array<[string, string]> {
    return [...this.values].filter((entry): entry is [string, string] => entry[1] !== undefined);
  }

  toRecord(): Record<string, string> {
    return Object.fromEntries(this.entries());
  }
}

/** The variables a word sees: args, overridden by the ENV of the config. */
export function expansionEnv(args: ArgScope | Record<string, string>, env: readonly string[]): Map<string, string> {
  const vars = new Map<string, string>(args instanceof ArgScope ? args.entries() : Object.entries(args));
  for (const entry of env) {
    const equals = entry.indexOf('=');
    if (equals < 0) vars.set(entry, '');
    else vars.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return vars;
}
