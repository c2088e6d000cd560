/** One benchmark row: the anchor's figure, keepcache's, their ratio and the target. */
export interface Row {
  name: string;
  anchor: string;
  keepcache: string;
  ratio: number;
  target: string;
  pass: boolean;
  /** Shown for information, not judged against a target ("info" instead of ok/MISS). */
  info?: boolean;
}

export function printTable(title: string, anchorName: string, rows: Row[]): string {
  const head = ["scenario", anchorName, "keepcache", "ratio", "target", ""];
  const body = rows.map((r) => [
    r.name,
    r.anchor,
    r.keepcache,
    r.ratio.toFixed(2),
    r.target,
    r.info ? "info" : r.pass ? "ok" : "MISS",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const out = [
    `### ${title}`,
    "",
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
    "",
  ].join("\n");
  process.stdout.write(`${out}\n`);
  return out;
}
