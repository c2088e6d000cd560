/**
 * How a configured script line becomes an argv. keepalived splits a script line into words
 * itself (double or single quotes group words, a backslash escapes outside single quotes) and
 * executes it without a shell (keepalived.conf(5), "script"); a line that uses shell syntax
 * (redirections such as `</dev/tcp/host/port`, pipes, variables) only works through a shell,
 * so where the caller allows it such a line runs as `bash -c LINE`.
 */

/** Splits a command line into words; quotes group, backslash escapes outside single quotes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (ch === " " || ch === "\t") {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}

/** True when the line uses syntax only a shell understands. */
export function needsShell(line: string): boolean {
  return /[<>|&;$`()*?[\]~{}]/.test(line);
}

/** The shell for such lines: `</dev/tcp/...` checks need bash; Debian's /bin/sh is dash. */
export function shellPath(exists: (path: string) => boolean): string {
  return exists("/bin/bash") ? "/bin/bash" : "/bin/sh";
}

/**
 * The argv for a script line: `[shell, "-c", line]` when `shell` is allowed and the line needs
 * one, otherwise its words.
 */
export function commandArgv(
  line: string,
  opts: { shell: boolean; exists: (path: string) => boolean },
): string[] {
  if (opts.shell && needsShell(line)) return [shellPath(opts.exists), "-c", line];
  return splitCommand(line);
}
