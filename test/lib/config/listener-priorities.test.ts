import {
  listenerRulePriorities,
  MAX_RULE_PRIORITY,
  MLFLOW_RULE_PRIORITY,
  MODEL_SLOTS,
  PRIORITIES_PER_MODEL,
  stableSlots,
} from '../../../lib/config/listener-priorities';

const MODELS = ['fraud-scorer', 'churn', 'ranker', 'recommender', 'embeddings', 'forecast'];

/** The first `count` model-like names whose home slot among `slotCount` is `slot`. */
function namesInSlot(slot: number, slotCount: number, count: number): string[] {
  const names: string[] = [];
  // A hash that spreads names finds them within a few times slotCount × count tries.
  for (let index = 0; names.length < count && index < 100 * slotCount * count; index++) {
    const name = `model-${index}`;
    if (stableSlots([name], slotCount).get(name) === slot) {
      names.push(name);
    }
  }
  if (names.length < count) {
    throw new Error(`no ${count} names hash to slot ${slot} of ${slotCount}`);
  }
  return names;
}

describe('listenerRulePriorities', () => {
  test('gives each name the first priority of a block of 10, from 10 to 49990', () => {
    const priorities = [...listenerRulePriorities(MODELS).values()];
    expect(new Set(priorities).size).toBe(MODELS.length);
    for (const priority of priorities) {
      expect(priority % PRIORITIES_PER_MODEL).toBe(0);
      expect(priority).toBeGreaterThanOrEqual(10);
      expect(priority + PRIORITIES_PER_MODEL - 1).toBeLessThanOrEqual(MAX_RULE_PRIORITY);
    }
    expect(Math.max(...priorities)).toBeLessThanOrEqual(49_990);
  });

  test("keeps every name's priority when the names are reordered", () => {
    const before = listenerRulePriorities(MODELS);
    const after = listenerRulePriorities([...MODELS].reverse());
    expect(new Map([...after].sort())).toEqual(new Map([...before].sort()));
  });

  test("keeps the other names' priorities when a name is added or removed", () => {
    const before = listenerRulePriorities(MODELS);
    const added = listenerRulePriorities(['new-model', ...MODELS]);
    const removed = listenerRulePriorities(MODELS.slice(1));
    for (const name of MODELS) {
      expect(added.get(name)).toBe(before.get(name));
    }
    for (const name of MODELS.slice(1)) {
      expect(removed.get(name)).toBe(before.get(name));
    }
  });

  test('is the FNV-1a hash of the name modulo 4999, plus one, times 10', () => {
    // FNV-1a 32 of "a" is 0xe40c292c, the published test vector; 0xe40c292c mod 4999 = 2573.
    expect(listenerRulePriorities(['a']).get('a')).toBe((2573 + 1) * 10);
  });

  test('sends the later of two colliding names to the next free slot, whatever else is listed', () => {
    const home = listenerRulePriorities(['fraud-scorer']).get('fraud-scorer')! / PRIORITIES_PER_MODEL - 1;
    const [first, second] = namesInSlot(home, MODEL_SLOTS, 2);
    const priorities = listenerRulePriorities([first, second]);
    expect(priorities.get(first)).toBe((home + 1) * PRIORITIES_PER_MODEL);
    expect(priorities.get(second)).toBe((home + 2) * PRIORITIES_PER_MODEL);
    // With a third name in the same slot listed first, both move on in their order, the same every time.
    const crowded = listenerRulePriorities(['fraud-scorer', first, second]);
    expect([crowded.get(first), crowded.get(second)]).toEqual([(home + 2) * PRIORITIES_PER_MODEL, (home + 3) * PRIORITIES_PER_MODEL]);
    expect(listenerRulePriorities(['fraud-scorer', first, second])).toEqual(crowded);
  });

  test('wraps from the last slot to the first', () => {
    const [first, second] = namesInSlot(4, 5, 2);
    expect(stableSlots([first, second], 5)).toEqual(new Map([[first, 4], [second, 0]]));
  });

  test('fills every model slot, none below 10, where MLflow is', () => {
    const names = Array.from({ length: MODEL_SLOTS }, (_, index) => `m${index}`);
    const priorities = [...listenerRulePriorities(names).values()].sort((a, b) => a - b);
    expect(priorities[0]).toBe(PRIORITIES_PER_MODEL);
    expect(priorities.at(-1)).toBe(49_990);
    expect(new Set(priorities).size).toBe(MODEL_SLOTS);
  });

  test('puts MLflow before every model', () => {
    expect(MLFLOW_RULE_PRIORITY).toBeGreaterThanOrEqual(1);
    expect(MLFLOW_RULE_PRIORITY).toBeLessThan(PRIORITIES_PER_MODEL);
  });

  test('refuses a name listed twice', () => {
    expect(() => listenerRulePriorities(['churn', 'churn'])).toThrow('"churn" is listed twice');
  });
});
