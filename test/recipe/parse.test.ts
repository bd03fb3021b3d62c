// parseRecipe: instructions, flags, directives, continuations and heredocs, as Docker's
// parser reads them. Each test names the rule it holds to.

import { describe, expect, it } from 'vitest';
import { RecipeError } from '../../src/errors.js';
import { parseRecipe, type Instruction, type Keyword } from '../../src/recipe/index.js';

const parse = (text: string) => parseRecipe(text, 'Dockerfile');

/** The instructions of the only stage. */
function body(text: string): Instruction[] {
  return parse(`FROM scratch\n${text}`).stages[0]!.instructions;
}

/**
 * The instruction type that can carry `keyword`. Not `Extract<Instruction, { keyword: K }>`:
 * that is `never` for keywords that share an interface (`'COPY' | 'ADD'`, `'ENV' | 'LABEL'`, …).
 */
type InstructionOf<K extends Keyword> = Instruction extends infer I
  ? I extends { keyword: infer Carried } ? (K extends Carried ? I & { keyword: K } : never) : never
  : never;

function hasKeyword<K extends Keyword>(instruction: Instruction, keyword: K): instruction is InstructionOf<K> {
  return instruction.keyword === keyword;
}

/** `instruction`, which must be present and a `keyword` instruction, narrowed to that type. */
function asKeyword<K extends Keyword>(instruction: Instruction | undefined, keyword: K): InstructionOf<K> {
  expect(instruction?.keyword).toBe(keyword);
  if (!instruction || !hasKeyword(instruction, keyword)) throw new Error(`expected a ${keyword} instruction`);
  return instruction;
}

function only<K extends Keyword>(text: string, keyword: K): InstructionOf<K> {
  const [instruction] = body(text);
  return asKeyword(instruction, keyword);
}

function parseError(text: string): RecipeError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return error as RecipeError;
  }
  throw new Error('expected a RecipeError');
}

describe('stages and FROM', () => {
  it('splits stages at FROM, keeps global ARGs apart, lower-cases stage names', () => {
    const recipe = parse('ARG V=1\nARG B\nFROM --platform=$BUILDPLATFORM base:$V AS Build\nRUN x\nFROM scratch\nCOPY a b\n');
    expect(recipe.globalArgs.map((arg) => arg.args.map(({ name, defaultValue }) => ({ name, defaultValue })))).toEqual([
      [{ name: 'V', defaultValue: '1' }],
      [{ name: 'B', defaultValue: undefined }],
    ]);
    expect(recipe.stages.map((stage) => [stage.index, stage.name, stage.from.image, stage.instructions.length])).toEqual([
      [0, 'build', 'base:$V', 1],
      [1, undefined, 'scratch', 1],
    ]);
    expect(recipe.stages[0]!.from.flags).toEqual([{ name: 'platform', value: '$BUILDPLATFORM', location: { file: 'Dockerfile', line: 3, column: 6 } }]);
  });

  it('accepts lower-case keywords and `as`', () => {
    expect(parse('from alpine as a\nrun echo').stages[0]!.name).toBe('a');
  });

  it('positions are 1-based line and column of the keyword', () => {
    const [first, second] = body('  RUN a\nENV x=1');
    expect(first!.location).toMatchObject({ line: 2, column: 3, endLine: 2 });
    expect(second!.location).toMatchObject({ line: 3, column: 1 });
  });

  it.each([
    ['FROM', 'FROM requires either one or three arguments'],
    ['FROM a b', 'FROM requires either one or three arguments'],
    ['FROM a to b', 'expected AS'],
    ['FROM a AS 1x', 'invalid name for build stage'],
  ])('rejects %j', (text, message) => {
    expect(parseError(text).message).toContain(message);
  });

  it('rejects duplicate stage names at the second FROM', () => {
    const error = parseError('FROM a AS x\nFROM b AS X\n');
    expect(error.message).toContain('duplicate stage name "x"');
    expect(error.location.line).toBe(2);
  });
});

describe('every instruction', () => {
  it('RUN shell form keeps the text as written; exec form is a JSON array', () => {
    expect(only('RUN echo "$HOME" \'x\'', 'RUN').command).toEqual({ form: 'shell', script: 'echo "$HOME" \'x\'' });
    expect(only('RUN ["echo", "$HOME"]', 'RUN').command).toEqual({ form: 'exec', argv: ['echo', '$HOME'] });
    expect(only('RUN [not json', 'RUN').command).toEqual({ form: 'shell', script: '[not json' });
  });

  it('RUN flags: --mount (repeatable), --network, --security', () => {
    const run = only('RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none --security=insecure make', 'RUN');
    expect(run.flags.map((flag) => [flag.name, flag.value])).toEqual([
      ['mount', 'type=cache,target=/c'],
      ['mount', 'type=tmpfs,target=/t'],
      ['network', 'none'],
      ['security', 'insecure'],
    ]);
    expect(run.command).toEqual({ form: 'shell', script: 'make' });
  });

  it('removes quotes inside flags and stops flags at a bare --', () => {
    const copy = only('COPY --chown="app user" --chmod=\'0755\' -- --weird dest/', 'COPY');
    expect(copy.flags.map((flag) => [flag.name, flag.value])).toEqual([['chown', 'app user'], ['chmod', '0755']]);
    expect(copy.sources).toEqual(['--weird']);
  });

  it('CMD and ENTRYPOINT in both forms, SHELL as JSON', () => {
    expect(only('CMD ["a", "b"]', 'CMD').command).toEqual({ form: 'exec', argv: ['a', 'b'] });
    expect(only('ENTRYPOINT exec app', 'ENTRYPOINT').command).toEqual({ form: 'shell', script: 'exec app' });
    expect(only('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]', 'SHELL').argv).toEqual(['/bin/bash', '-eo', 'pipefail', '-c']);
  });

  it('ENV and LABEL: key=value pairs keep quotes for the lexer; the legacy form takes the rest of the line', () => {
    const env = only('ENV A=1 B="two words" C=a\\ b', 'ENV');
    expect(env.pairs).toEqual([
      { key: 'A', value: '1', location: { file: 'Dockerfile', line: 2, column: 5 } },
      { key: 'B', value: '"two words"', location: { file: 'Dockerfile', line: 2, column: 9 } },
      { key: 'C', value: 'a\\ b', location: { file: 'Dockerfile', line: 2, column: 23 } },
    ]);
    expect(env.legacyForm).toBe(false);
    expect(only('ENV A the rest  of it', 'ENV')).toMatchObject({ pairs: [{ key: 'A', value: 'the rest  of it' }], legacyForm: true });
    expect(only('LABEL "com.example.x"="y z" v=1', 'LABEL').pairs).toMatchObject([{ key: '"com.example.x"', value: '"y z"' }, { key: 'v', value: '1' }]);
  });

  it('the escape character is literal inside single quotes when splitting ENV words', () => {
    expect(only("ENV A='x\\' B=y", 'ENV').pairs.map((p) => [p.key, p.value])).toEqual([['A', "'x\\'"], ['B', 'y']]);
  });

  it('a JSON array of non-strings is an error, not shell form', () => {
    expect(parseError('FROM scratch\nCMD ["a", 1]').message).toBe('when using JSON array syntax, arrays must be comprised of strings only');
    expect(only('CMD [1, 2', 'CMD').command).toEqual({ form: 'shell', script: '[1, 2' });
  });

  it('ARG with and without default, several per line', () => {
    const args = only('ARG A B=2 C="x y"', 'ARG').args;
    expect(args.map(({ name, defaultValue }) => [name, defaultValue])).toEqual([['A', undefined], ['B', '2'], ['C', '"x y"']]);
    expect(args.map((arg) => arg.location.column)).toEqual([5, 7, 11]);
  });

  it('EXPOSE, VOLUME (plain and JSON), USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
    expect(only('EXPOSE 80 53/udp', 'EXPOSE').items).toEqual(['80', '53/udp']);
    expect(only('VOLUME /a /b', 'VOLUME').items).toEqual(['/a', '/b']);
    expect(only('VOLUME ["/a b"]', 'VOLUME').items).toEqual(['/a b']);
    expect(only('USER app:grp', 'USER').value).toBe('app:grp');
    expect(only('WORKDIR /my dir', 'WORKDIR').value).toBe('/my dir');
    expect(only('STOPSIGNAL SIGKILL', 'STOPSIGNAL').value).toBe('SIGKILL');
    expect(only('MAINTAINER Jane <j@x>', 'MAINTAINER').value).toBe('Jane <j@x>');
  });

  it('COPY and ADD with every flag, plain and JSON forms', () => {
    const copy = only('COPY --from=build --chown=1:2 --chmod=644 --link --exclude=*.md --exclude=x --parents a b /dst/', 'COPY');
    expect(copy.sources).toEqual(['a', 'b']);
    expect(copy.dest).toBe('/dst/');
    expect(copy.flags.map((flag) => flag.name)).toEqual(['from', 'chown', 'chmod', 'link', 'exclude', 'exclude', 'parents']);
    const add = only('ADD --checksum=sha256:abc --keep-git-dir=true --link=false ["a b", "/d"]', 'ADD');
    expect([add.sources, add.dest]).toEqual([['a b'], '/d']);
  });

  it('HEALTHCHECK with options, CMD forms, and NONE', () => {
    const check = only('HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --start-interval=2s --retries=3 CMD curl -f http://x/', 'HEALTHCHECK');
    expect(check.command).toEqual({ form: 'shell', script: 'curl -f http://x/' });
    expect(check.flags.map((flag) => flag.name)).toEqual(['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
    expect(only('HEALTHCHECK CMD ["true"]', 'HEALTHCHECK').command).toEqual({ form: 'exec', argv: ['true'] });
    expect(only('HEALTHCHECK none', 'HEALTHCHECK').command).toBeNull();
  });

  it('ONBUILD parses its trigger and keeps the expression', () => {
    const onbuild = only('ONBUILD  COPY --chown=1 . /app', 'ONBUILD');
    expect(onbuild.expression).toBe('COPY --chown=1 . /app');
    expect(onbuild.trigger).toMatchObject({ keyword: 'COPY', sources: ['.'], dest: '/app' });
  });

  it.each([
    ['ONBUILD ONBUILD RUN x', "isn't allowed"],
    ['ONBUILD FROM x', "FROM isn't allowed as an ONBUILD trigger"],
    ['ONBUILD MAINTAINER x', "MAINTAINER isn't allowed"],
    ['SHELL /bin/sh -c', 'SHELL requires the arguments to be in JSON form'],
    ['HEALTHCHECK RUN x', 'unknown type RUN in HEALTHCHECK'],
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['COPY onlyone', 'COPY requires at least two arguments'],
    ['ENV', 'ENV requires at least one argument'],
    ['ENV A=1 B', `can't find = in "B"`],
    ['ENV =1', 'ENV names can not be blank'],
    ['LABEL onlykey', 'LABEL must have two arguments'],
    ['EXPOSE', 'EXPOSE requires at least one argument'],
    ['WORKDIR', 'WORKDIR requires at least one argument'],
    ['RUN', 'RUN requires at least one argument'],
  ])('rejects %j', (text, message) => {
    expect(parseError(`FROM scratch\n${text}`).message).toContain(message);
  });
});

describe('flags are checked per instruction', () => {
  it.each([
    ['COPY --chown 1 a b', 'missing a value on flag --chown'],
    ['COPY --link=maybe a b', '--link expects true or false'],
    ['COPY --checksum=x a b', 'unknown flag --checksum for COPY'],
    ['ADD --from=x a b', 'unknown flag --from for ADD'],
    ['RUN --mount type=cache x', 'missing a value on flag --mount'],
    ['RUN --bogus=1 x', 'unknown flag --bogus for RUN'],
    ['COPY --from=a --from=b x y', 'duplicate flag --from'],
    ['USER --x=1 app', 'unknown flag --x for USER'],
  ])('%j', (text, message) => {
    const error = parseError(`FROM scratch\n${text}`);
    expect(error.message).toContain(message);
    expect(error.location.line).toBe(2);
    expect(error.location.column).toBeGreaterThan(1);
  });
});

describe('directives', () => {
  it('warns about a # syntax= naming another frontend, not about docker/dockerfile', () => {
    expect(parse('# syntax=docker/dockerfile:1.7\nFROM scratch').warnings).toEqual([]);
    expect(parse('# syntax=example.com/frontend:2\nFROM scratch').warnings).toEqual([
      { message: expect.stringContaining('# syntax=example.com/frontend:2 is not followed'), location: { file: 'Dockerfile', line: 1, column: 1 } },
    ]);
  });

  it('reads syntax, escape and check at the top', () => {
    const recipe = parse('# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=JSONArgsRecommended\nFROM scratch\n');
    expect(recipe.directives).toEqual({ syntax: 'docker/dockerfile:1.7', escape: '`', check: 'skip=JSONArgsRecommended' });
  });

  it('ignores directive-like comments after the first instruction', () => {
    expect(parse('FROM scratch\n# escape=`\n').directives.escape).toBe('\\');
  });

  it('rejects a repeated directive', () => {
    const error = parseError('# escape=`\n# escape=`\nFROM scratch');
    expect([error.message, error.location.line]).toEqual(['only one escape parser directive can be used', 2]);
  });

  it('rejects an escape that is neither \\ nor `', () => {
    expect(parseError('# escape=x\nFROM scratch').message).toContain("invalid escape token 'x'");
  });
});

describe('continuation lines', () => {
  it('joins lines ending in \\, dropping comment and blank lines inside', () => {
    const run = only('RUN apt-get update && \\\n  # install\n\n   apt-get install -y x \\\n  && echo done', 'RUN');
    expect(run.command).toEqual({ form: 'shell', script: 'apt-get update &&    apt-get install -y x   && echo done' });
    expect(run.location).toMatchObject({ line: 2, endLine: 6 });
  });

  it('warns about each blank line inside a continuation, and about MAINTAINER', () => {
    const recipe = parse('FROM scratch\nRUN a \\\n\n   \n  b\nMAINTAINER me');
    expect(recipe.warnings.map((w) => [w.location.line, w.message.split(':')[0]])).toEqual([
      [3, 'empty continuation line'],
      [4, 'empty continuation line'],
      [6, 'MAINTAINER is deprecated'],
    ]);
  });

  it('uses ` as the continuation character under escape=` and leaves \\ alone', () => {
    const recipe = parse('# escape=`\nFROM scratch\nRUN dir C:\\ `\n  && echo ok\nCOPY a\\b c\\\n');
    const [first, second] = recipe.stages[0]!.instructions;
    const run = asKeyword(first, 'RUN');
    const copy = asKeyword(second, 'COPY');
    expect(run.command).toEqual({ form: 'shell', script: 'dir C:\\   && echo ok' });
    expect([copy.sources, copy.dest]).toEqual([['a\\b'], 'c\\']);
  });

  it('an unterminated quote in a flag is an error', () => {
    expect(parseError('FROM scratch\nRUN --mount=type=bind,target="/x y').message).toContain('unterminated quote in --mount');
  });

  it('reports flag errors on the continued line where they are', () => {
    const error = parseError('FROM scratch\nCOPY \\\n   --bad=1 a b');
    expect(error.location).toMatchObject({ line: 3, column: 4 });
  });

  it('a continuation at the end of the file ends the instruction', () => {
    expect(only('RUN echo \\', 'RUN').command).toEqual({ form: 'shell', script: 'echo' });
  });
});

describe('heredocs', () => {
  it('RUN <<EOF: the body follows, the script keeps the marker', () => {
    const run = only('RUN <<EOF\necho "$HOME"\n  indented\nEOF\nENV after=1', 'RUN');
    expect(run.command).toEqual({ form: 'shell', script: '<<EOF' });
    expect(run.heredocs).toEqual([
      { name: 'EOF', content: 'echo "$HOME"\n  indented\n', quoted: false, chomp: false, location: { file: 'Dockerfile', line: 2, column: 5 } },
    ]);
    expect(run.location.endLine).toBe(5);
    expect(body('RUN <<EOF\nx\nEOF\nENV after=1')[1]!.keyword).toBe('ENV');
  });

  it('<<-EOF strips leading tabs from the body and the delimiter line', () => {
    const run = only('RUN <<-EOF\n\techo a\n\t\techo b\n\tEOF', 'RUN');
    expect(run.heredocs[0]).toMatchObject({ content: 'echo a\necho b\n', chomp: true });
  });

  it("quoted delimiters ('EOF', \"EOF\") are marked quoted", () => {
    const run = only(`RUN <<'A' cat && <<"B" cat\n$x\nA\n$y\nB`, 'RUN');
    expect(run.heredocs.map((h) => [h.name, h.content, h.quoted])).toEqual([['A', '$x\n', true], ['B', '$y\n', true]]);
  });

  it('several heredocs in one instruction are read in order', () => {
    const run = only('RUN <<FIRST cat > /a && <<SECOND cat > /b\none\nFIRST\ntwo\nSECOND', 'RUN');
    expect(run.heredocs.map((h) => [h.name, h.content])).toEqual([['FIRST', 'one\n'], ['SECOND', 'two\n']]);
    expect(run.command).toEqual({ form: 'shell', script: '<<FIRST cat > /a && <<SECOND cat > /b' });
  });

  it('COPY <<EOF: inline sources are heredocs, not context paths', () => {
    const copy = only('COPY <<a.txt <<b.txt /dst/\nA\na.txt\nB\nb.txt', 'COPY');
    expect(copy.sources).toEqual([]);
    expect(copy.dest).toBe('/dst/');
    expect(copy.heredocs.map((h) => [h.name, h.content])).toEqual([['a.txt', 'A\n'], ['b.txt', 'B\n']]);
  });

  it('a body line that looks like an instruction stays in the body', () => {
    const recipe = parse('FROM scratch\nRUN <<EOF\nFROM evil\nEOF\n');
    expect(recipe.stages).toHaveLength(1);
    expect(asKeyword(recipe.stages[0]!.instructions[0], 'RUN').heredocs[0]!.content).toBe('FROM evil\n');
  });

  it('the delimiter is the whole shell word, quotes removed; any quote turns expansion off', () => {
    const heredocs = (text: string) => only(text, 'RUN').heredocs.map((h) => [h.name, h.quoted, h.chomp]);
    expect(heredocs('RUN cat <<EOF;\nx\nEOF;')).toEqual([['EOF;', false, false]]);
    expect(heredocs('RUN cat <<E"O"F\nx\nEOF')).toEqual([['EOF', true, false]]);
    expect(heredocs('RUN cat 3<<-"END"\n\tx\n\tEND')).toEqual([['END', true, true]]);
    expect(heredocs('RUN cat <<""')).toEqual([]);
  });

  it('finds the instructions after heredocs that dockerfile-ast misreads', () => {
    for (const run of ['RUN cat <<E"O"F', 'RUN cat 3<<EOF']) {
      const instructions = body(`${run}\nFROM body\nEOF\nENV after=1\n`);
      expect(instructions.map((i) => i.keyword)).toEqual(['RUN', 'ENV']);
      expect(instructions[1]!.location.line).toBe(5);
    }
  });

  it('<< inside quotes or after a word is not a heredoc', () => {
    expect(only(`RUN echo "<<EOF" a<<b`, 'RUN').heredocs).toEqual([]);
  });

  it('ENV and other instructions do not take heredocs', () => {
    expect(only('ENV A=<<EOF', 'ENV').pairs).toMatchObject([{ key: 'A', value: '<<EOF' }]);
  });

  it('an unterminated heredoc is an error at its marker', () => {
    const error = parseError('FROM scratch\nRUN cat <<END\nline\n');
    expect(error.code).toBe('E_RECIPE_HEREDOC');
    expect(error.message).toContain('unterminated heredoc <<END');
    expect(error.location).toMatchObject({ line: 2, column: 9 });
  });
});

describe('recipe-level errors', () => {
  it('an unknown instruction names itself and its place', () => {
    const error = parseError('FROM scratch\n\nCOPPY a b\n');
    expect(error.code).toBe('E_RECIPE_INSTRUCTION');
    expect(error.message).toBe('unknown instruction: COPPY');
    expect(error.location).toMatchObject({ line: 3, column: 1 });
    expect(error.source).toContain('COPPY a b');
  });

  it('no FROM at all, or an instruction other than ARG before it', () => {
    expect(parseError('# just a comment\n').code).toBe('E_RECIPE_NO_FROM');
    expect(parseError('ARG x\nRUN echo\nFROM scratch').message).toContain('RUN before the first FROM');
  });

  it('a line of nothing but a continuation character is dropped, as Docker does', () => {
    expect(parse('FROM scratch\n\\\n').stages[0]!.instructions).toEqual([]);
  });

  it('a bare -- ends the flags, and what follows is the arguments', () => {
    expect(only('ONBUILD -- ENV a=1', 'ONBUILD').trigger).toMatchObject({ keyword: 'ENV', pairs: [{ key: 'a', value: '1' }] });
  });

  it('CRLF line endings parse like LF', () => {
    const recipe = parse('FROM scratch\r\nRUN a \\\r\n  b\r\nENV x=1\r\n');
    const [run, env] = recipe.stages[0]!.instructions;
    expect(asKeyword(run, 'RUN').command).toEqual({ form: 'shell', script: 'a   b' });
    expect(asKeyword(env, 'ENV').pairs).toMatchObject([{ key: 'x', value: '1' }]);
  });
});
