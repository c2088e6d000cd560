/**
 * Random RESP3 replies, encoded (fast-check): every type, nested aggregates, maps, attributes
 * before values, pushes. Shared by the reply framer's property tests.
 */
import fc from "fast-check";

export const scalar: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z ]{0,8}$/).map((s) => `+${s}\r\n`),
  fc.stringMatching(/^ERR [a-z]{0,8}$/).map((s) => `-${s}\r\n`),
  fc.integer().map((n) => `:${n}\r\n`),
  fc.string({ maxLength: 12 }).map((s) => {
    const b = Buffer.from(s, "utf8").toString("latin1");
    return `$${b.length}\r\n${b}\r\n`;
  }),
  fc.constantFrom("$-1\r\n", "*-1\r\n", "_\r\n", "#t\r\n", "#f\r\n", ",3.14\r\n", ",inf\r\n"),
  fc.constantFrom(
    "(3492890328409238509324850943850943825024385\r\n",
    "!5\r\nERR x\r\n",
    "=7\r\ntxt:a\r\n\r\n",
  ),
);
export const { value } = fc.letrec<{ value: string; attr: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc
      .tuple(fc.constantFrom("*", "~", ">"), fc.array(tie("value"), { maxLength: 4 }))
      .map(([t, xs]) => `${t}${xs.length}\r\n${xs.join("")}`),
    fc
      .array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 })
      .map((ps) => `%${ps.length}\r\n${ps.map(([k, v]) => k + v).join("")}`),
    fc.tuple(tie("attr"), tie("value")).map(([a, v]) => a + v),
  ),
  attr: fc
    .array(fc.tuple(scalar, tie("value")), { maxLength: 2 })
    .map((ps) => `|${ps.length}\r\n${ps.map(([k, v]) => k + v).join("")}`),
}));
