/** Property names that must never hold a literal value. */
const SECRET_PROPERTY = /pass(word|wd|phrase)?$|secret(string|key|value)?$|token$|credentials?$|privatekey$/i;

/** Values that look like credentials wherever they appear. */
const SECRET_VALUE = [/AKIA[0-9A-Z]{16}/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /aws_secret_access_key/i];

/** Each string in a template with the property name it sits under. */
function* strings(value: unknown, key = ''): Generator<{ key: string; value: string }> {
  if (typeof value === 'string') {
    yield { key, value };
  } else if (Array.isArray(value)) {
    for (const item of value) {
      yield* strings(item, key);
    }
  } else if (value && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) {
      yield* strings(child, childKey);
    }
  }
}

/** Literal strings under secret-looking property names, and credential-looking values anywhere. */
export function secretLiterals(template: unknown): string[] {
  const found: string[] = [];
  for (const { key, value } of strings(template)) {
    const isDynamicReference = value.startsWith('{{resolve:') || value === '';
    if (SECRET_PROPERTY.test(key) && !isDynamicReference) {
      found.push(`${key}: ${value}`);
    }
    if (SECRET_VALUE.some((pattern) => pattern.test(value))) {
      found.push(`${key}: ${value.slice(0, 12)}…`);
    }
  }
  return found;
}
