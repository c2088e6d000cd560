import assert from "node:assert/strict";
import { test } from "node:test";
import { workerExecArgv } from "../../../src/workers/exec-argv.js";

test("workers inherit loaders and memory flags, never test-runner or debugger flags", () => {
  assert.deepEqual(
    workerExecArgv([
      "--import",
      "tsx",
      "--test-name-pattern",
      "killed worker",
      "--test",
      "--inspect=9229",
      "--watch",
      "--cpu-prof",
      "--max-old-space-size=64",
      "--require",
      "/x/preflight.cjs",
      "--import=file:///y/loader.mjs",
      "--enable-source-maps",
    ]),
    [
      "--import",
      "tsx",
      "--max-old-space-size=64",
      "--require",
      "/x/preflight.cjs",
      "--import=file:///y/loader.mjs",
      "--enable-source-maps",
    ],
  );
  assert.deepEqual(workerExecArgv([]), []);
});
