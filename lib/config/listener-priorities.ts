/**
 * Listener rule priorities on the shared load balancer listener, one block of ten per model.
 *
 * A listener refuses two rules with the same priority (ELB API CreateRule, SetRulePriorities), and
 * CloudFormation applies a deploy's rule changes in parallel, deleting removed rules only after
 * every update: were priorities handed out by position, adding, removing or reordering one model
 * would move the others' rules into priorities still held, and the deploy would fail with
 * PriorityInUse. So each model's block is derived from its own name: a hash picks its slot, and
 * only a name whose slot is taken moves on, to the next free one.
 */

/** ALB's highest listener rule priority (ELB API RulePriorityPair: 1 to 50000). */
export const MAX_RULE_PRIORITY = 50_000;

/** Priorities each model may use: its first one and the nine after it. */
export const PRIORITIES_PER_MODEL = 10;

/** Slots for models: slot n holds priorities 10n..10n+9, so the last, 4999, ends at 49999. */
export const MODEL_SLOTS = Math.floor(MAX_RULE_PRIORITY / PRIORITIES_PER_MODEL) - 1;

/** MLflow's rule priority, in the reserved slot 0 (1..9; ALB has no priority 0), ahead of every model. */
export const MLFLOW_RULE_PRIORITY = 1;

/** FNV-1a, 32 bits, over the name's UTF-8 bytes: small, well spread, and the same in every run and release. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * A slot in 0..slotCount-1 for each name, from the name's hash; a name whose slot an earlier name
 * took takes the next free one (wrapping around). So a name keeps its slot when others are added
 * after it, removed or reordered, unless it shares a hash slot with one of them.
 */
export function stableSlots(names: readonly string[], slotCount: number): Map<string, number> {
  if (names.length > slotCount) {
    throw new Error(`${names.length} names for ${slotCount} slots`);
  }
  const taken = new Set<number>();
  const slots = new Map<string, number>();
  for (const name of names) {
    if (slots.has(name)) {
      throw new Error(`"${name}" is listed twice; each name needs a slot of its own`);
    }
    let slot = fnv1a32(name) % slotCount;
    while (taken.has(slot)) {
      slot = (slot + 1) % slotCount;
    }
    taken.add(slot);
    slots.set(name, slot);
  }
  return slots;
}

/**
 * The first of the ten listener rule priorities of each model (10..49990), keyed by the name given
 * (a model's name or hostname, unique per listener). List the names in config order: on a hash
 * collision the name listed later moves on, so a new model listed last never moves another.
 */
export function listenerRulePriorities(names: readonly string[]): Map<string, number> {
  // Slot 0 is MLflow's; models hash into 1..MODEL_SLOTS.
  const slots = stableSlots(names, MODEL_SLOTS);
  return new Map([...slots].map(([name, slot]) => [name, (slot + 1) * PRIORITIES_PER_MODEL]));
}
