/** Keys whose braces trip naive hash tagging (src/protocol/key-slot.test.ts; test/node/cluster/kv-slots.test.ts runs them on a real cluster). */
export const BRACE_KEYS = [
  "a{b}c",
  "{}",
  "{}x",
  "a{}b",
  "a{}b}c",
  "a}b{c",
  "}",
  "{",
  "{{x}}",
  "x{y}z{w}",
  "{user:1}:profile",
  "κλειδί{τ}",
  "emoji🙂}",
  `${"k".repeat(500)}}{`,
];
