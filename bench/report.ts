import type { FigureSummary } from "./figure";
import { spread } from "./stats";

/** Three significant digits, without exponent or trailing zeros. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  return String(Number(value.toPrecision(3)));
}

const cell = (values: number[]) => {
  const s = spread(values);
  return values.length > 1
    ? `**${formatNumber(s.median)}** (${formatNumber(s.min)}–${formatNumber(s.max)})`
    : `**${formatNumber(s.median)}**`;
};

const requests = (s: FigureSummary) =>
  s.libRequests === null && s.rawRequests === null
    ? "–"
    : `${s.libRequests === null ? "–" : formatNumber(s.libRequests)} / ${s.rawRequests === null ? "–" : formatNumber(s.rawRequests)}`;

/** Whether each figure meets its target, by id (figures without a target are absent). */
export function targetResults(summaries: FigureSummary[]): Map<string, boolean> {
  const byId = new Map(summaries.map((s) => [s.figure.id, s]));
  const met = new Map<string, boolean>();
  for (const s of summaries) if (s.figure.target) met.set(s.figure.id, s.figure.target.met(s, byId));
  return met;
}

/**
 * The results table (Markdown): medians with min–max over rounds for each path, the median of the
 * per-round advantages, requests per operation, and the target.
 */
export function resultsTable(summaries: FigureSummary[]): string {
  const met = targetResults(summaries);
  const lines = [
    "| figure | unit | library | raw SDK | library advantage × | req/op lib / raw | target | met |",
    "|---|---|---:|---:|---:|---:|---|:-:|",
  ];
  for (const s of summaries) {
    const f = s.figure;
    const verdict = met.has(f.id) ? (met.get(f.id) ? "yes" : "**no**") : "";
    lines.push(
      `| ${f.label} \`${f.id}\` | ${f.unit} | ${cell(s.lib)} | ${cell(s.raw)} | ${cell(s.advantage)} | ${requests(s)} | ${f.target?.text ?? ""} | ${verdict} |`,
    );
  }
  return lines.join("\n");
}

/** What each path runs, per figure (Markdown). */
export function legendTable(summaries: FigureSummary[]): string {
  const lines = ["| figure | library path | raw SDK path |", "|---|---|---|"];
  for (const { figure } of summaries) lines.push(`| \`${figure.id}\` | ${figure.lib} | ${figure.raw} |`);
  return lines.join("\n");
}
