/**
 * keepalived.conf reader. keepalived's parser (lib/parser.c) is line-oriented: each line is a
 * keyword with arguments; `{` opens a block for the statement before it and `}` closes one.
 * Comments start at `#` or `!` outside quotes; "double quotes" group words. `include <glob>`
 * splices other files in. We keep file and line on every statement so the importer can name
 * what it cannot map. Pure apart from the injected include reader.
 */
import { ConfigError } from "../../errors.js";
import { MAX_CONFIG_BYTES } from "../load.js";

export interface Stmt {
  key: string;
  args: string[];
  file: string;
  line: number;
  /** The source line, trimmed, for messages. */
  text: string;
  block?: Stmt[];
}

/** Resolves an include glob (relative to the including file) to [file, text] pairs. */
export type IncludeReader = (pattern: string, from: string) => [string, string][];

interface Token {
  t: string;
  quoted: boolean;
}

/**
 * Blanks include Unicode spaces (U+00A0, U+3000 ...): configs copied from web pages carry
 * them, and reading them as part of a word (as keepalived's isspace() does) only breaks things
 * silently. importKeepalived() reports each line where this happened.
 */
function isBlank(c: string): boolean {
  return /\s/u.test(c);
}

/** Splits one line into tokens; braces are tokens of their own unless quoted. */
export function tokenizeLine(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (isBlank(c)) {
      i++;
    } else if (c === "#" || c === "!") {
      break;
    } else if (c === "{" || c === "}") {
      out.push({ t: c, quoted: false });
      i++;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      // An unterminated quote runs to the end of the line, as keepalived reads it.
      const stop = end < 0 ? line.length : end;
      out.push({ t: line.slice(i + 1, stop), quoted: true });
      i = stop + 1;
    } else {
      let j = i;
      while (j < line.length && !isBlank(line[j]) && !'{}"#!'.includes(line[j])) j++;
      out.push({ t: line.slice(i, j), quoted: false });
      i = j;
    }
  }
  return out;
}

export function parseKeepalived(text: string, file: string, include?: IncludeReader): Stmt[] {
  const root: Stmt[] = [];
  const stack: { list: Stmt[]; opener?: Stmt }[] = [{ list: root }];
  const depth = { n: 0, bytes: text.length };
  parseInto(text, file, include, stack, depth);
  if (stack.length > 1) {
    const open = stack[stack.length - 1].opener!;
    throw new ConfigError(
      open.file,
      open.line,
      open.key,
      `block opened here is never closed with "}"`,
    );
  }
  return root;
}

/** The include's files; a file that cannot be read is an error on the include's line. */
function includeFiles(include: IncludeReader, s: Stmt, file: string): [string, string][] {
  try {
    return include(s.args[0] ?? "", file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // ConfigErrors (a file over the size cap) lists its one problem; others are I/O errors.
    const one = (err as { errors?: ConfigError[] }).errors?.[0];
    const why = one?.message ?? (err as Error).message;
    throw new ConfigError(file, s.line, "include", `cannot read ${s.args[0] ?? ""}: ${why}`, {
      cause: err,
    });
  }
}

function parseInto(
  text: string,
  file: string,
  include: IncludeReader | undefined,
  stack: { list: Stmt[]; opener?: Stmt }[],
  depth: { n: number; bytes: number },
): void {
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const toks = tokenizeLine(lines[n]);
    let words: Token[] = [];
    const flush = (opens: boolean) => {
      if (words.length === 0) {
        if (!opens) return;
        // `keyword` then `{` on the next line: keepalived accepts it; attach to that statement.
        const list = stack[stack.length - 1].list;
        const prev = list[list.length - 1];
        if (!prev || prev.block)
          throw new ConfigError(file, n + 1, undefined, `"{" without a keyword`);
        prev.block = [];
        stack.push({ list: prev.block, opener: prev });
        return;
      }
      const s: Stmt = {
        key: words[0].t,
        args: words.slice(1).map((w) => w.t),
        file,
        line: n + 1,
        text: lines[n].trim(),
      };
      words = [];
      if (!opens && s.key === "include" && include) {
        if (++depth.n > 32)
          throw new ConfigError(file, s.line, "include", "includes nested too deep");
        for (const [f, t] of includeFiles(include, s, file)) {
          // A file that includes itself twice doubles at every level: bound the total read.
          depth.bytes += t.length;
          if (depth.bytes > MAX_CONFIG_BYTES)
            throw new ConfigError(
              file,
              s.line,
              "include",
              `the included files pass ${MAX_CONFIG_BYTES / 1024 / 1024} MiB in total`,
            );
          parseInto(t, f, include, stack, depth);
        }
        depth.n--;
        return;
      }
      stack[stack.length - 1].list.push(s);
      if (opens) {
        s.block = [];
        stack.push({ list: s.block, opener: s });
      }
    };
    for (const tok of toks) {
      if (!tok.quoted && tok.t === "{") flush(true);
      else if (!tok.quoted && tok.t === "}") {
        flush(false);
        if (stack.length === 1)
          throw new ConfigError(file, n + 1, undefined, `"}" closes no block`);
        stack.pop();
      } else words.push(tok);
    }
    flush(false);
  }
}
