import { z } from 'zod';

/** The text of the value at a path as written in the file, e.g. `1.30` where YAML read 1.3. */
export type SourceText = (path: readonly PropertyKey[]) => string | undefined;

/**
 * A zod error map that words every problem zod finds on its own as a plain sentence with the fix,
 * in place of zod's validator wording. Messages the schema sets itself take precedence over it.
 * `source` gives the value as written, so a fix can quote the user's own text.
 */
export function configErrorMap(source: SourceText): z.core.$ZodErrorMap {
  const map: z.core.$ZodErrorMap = (issue) => {
    const written = source(issue.path ?? []) ?? display(issue.input);
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) {
          return `is required (${noun(issue.expected)})`;
        }
        return issue.expected === 'string' ? wrongText(issue.inst, issue.input, written, map) : wrongType(issue.expected, issue.input, written);
      // A whole-number field checks the safe-integer range before its own bounds; name the field's
      // own, tightest bound rather than 9007199254740991.
      case 'too_big':
        return bound('at most', 'less than', issue.origin, numberSchema(issue.schema)?.maxValue ?? Number(issue.maximum), issue.inclusive);
      case 'too_small':
        return issue.origin === 'string' && issue.minimum === 1
          ? 'must not be empty'
          : bound('at least', 'more than', issue.origin, numberSchema(issue.schema)?.minValue ?? Number(issue.minimum), issue.inclusive);
      case 'invalid_value':
        return oneOf(issue.values, issue.input, written);
      case 'unrecognized_keys':
        return unknownFields(issue.keys, issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : []);
      case 'not_multiple_of':
        return `must be a multiple of ${issue.divisor}`;
      case 'invalid_format':
        return issue.pattern ? `must match the pattern ${issue.pattern}` : `must be a valid ${issue.format}`;
      default:
        return 'is not valid here; see docs/config-reference.md for what this field takes';
    }
  };
  return map;
}

/**
 * Text was expected: quoting fixes a number or boolean only if the quoted text passes the field's
 * own checks; otherwise those checks say what the field takes.
 */
function wrongText(schema: unknown, input: unknown, written: string, map: z.core.$ZodErrorMap): string {
  if (typeof input !== 'number' && typeof input !== 'boolean') {
    return `must be text, not ${Array.isArray(input) ? 'a list' : 'a mapping'}`;
  }
  const quoted = schema instanceof z.ZodType ? schema.safeParse(written, { error: map }) : undefined;
  return quoted === undefined || quoted.success ? `must be text: write it in quotes: "${written}"` : quoted.error.issues[0].message;
}

function numberSchema(schema: unknown): z.ZodNumber | undefined {
  return schema instanceof z.ZodNumber ? schema : undefined;
}

/** The candidate a mistyped word most likely meant: a near spelling or a completion, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const scored = candidates.map((candidate) => ({ candidate, distance: editDistance(lower, candidate.toLowerCase()) }));
  const best = scored.sort((a, b) => a.distance - b.distance)[0];
  if (best && best.distance <= Math.max(1, Math.floor(word.length / 5))) {
    return best.candidate;
  }
  return lower.length >= 3 ? candidates.find((candidate) => candidate.toLowerCase().startsWith(lower)) : undefined;
}

/** Levenshtein distance: the fewest single-letter insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** A value as the message shows it; JSON would print Infinity as null. */
export function display(value: unknown): string {
  return typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value);
}

function noun(expected: string): string {
  const nouns: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping of fields',
    record: 'a mapping of names to values',
  };
  return nouns[expected] ?? expected;
}

function wrongType(expected: string, input: unknown, written: string): string {
  const numeric = typeof input === 'string' && /^-?\d+(\.\d+)?$/.test(input.trim());
  switch (expected) {
    case 'number':
    case 'int':
      if (typeof input === 'number' && !Number.isFinite(input)) {
        return `must be ${noun(expected)}, not ${written}`;
      }
      if (typeof input === 'number') {
        return `must be a whole number, such as ${Math.floor(input)} or ${Math.ceil(input)}`;
      }
      return numeric ? `must be ${noun(expected)}: write ${input.trim()} without quotes` : `must be ${noun(expected)}, not text`;
    case 'boolean':
      return typeof input === 'string' ? `must be true or false, written without quotes; ${JSON.stringify(input)} is text` : 'must be true or false';
    case 'array':
      return typeof input === 'string' || typeof input === 'number' ? `must be a list: write [${written}]` : 'must be a list, e.g. [a, b], or one "- entry" line per entry';
    case 'object':
    case 'record':
      return `must be ${noun(expected)}, one "name: value" line each`;
    default:
      return `must be ${noun(expected)}`;
  }
}

function bound(inclusiveWord: string, exclusiveWord: string, origin: string, limit: number, inclusive = true): string {
  const phrase = `${inclusive ? inclusiveWord : exclusiveWord} ${limit}`;
  if (origin === 'string') {
    return `must be ${phrase} characters long`;
  }
  if (origin === 'array' || origin === 'set') {
    return `must list ${phrase} ${limit === 1 ? 'entry' : 'entries'}`;
  }
  return `must be ${phrase}`;
}

function oneOf(values: readonly unknown[], input: unknown, written: string): string {
  const allowed = values.map((value) => JSON.stringify(value)).join(', ');
  const textual = values.every((value) => typeof value === 'string');
  if (textual && (typeof input === 'number' || typeof input === 'boolean')) {
    return values.includes(written) ? `must be text: write it in quotes: "${written}"` : `must be one of ${allowed}`;
  }
  const guess = typeof input === 'string' ? closest(input, values.map(String)) : undefined;
  return `must be one of ${allowed}${guess === undefined ? '' : `; did you mean ${guess}?`}`;
}

function unknownFields(keys: readonly string[], allowed: readonly string[]): string {
  const named = keys.map((key) => {
    const guess = closest(key, allowed);
    return guess === undefined ? `"${key}"` : `"${key}" (did you mean ${guess}?)`;
  });
  return `unknown field${keys.length > 1 ? 's' : ''} ${named.join(', ')}; allowed: ${allowed.join(', ')}`;
}
