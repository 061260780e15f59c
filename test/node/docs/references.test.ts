import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * A reader of the repository alone must be able to follow every reference in its code and docs: they cite the
 * project's own `docs/*.md` pages, never the design notes or research files the project was built from, which
 * are not in the repository.
 */
const ROOT = join(import.meta.dirname, "..", "..", "..");
const SCANNED = ["src", "test", "bench", "docs", "scripts", "examples", "README.md", "CHANGELOG.md"];
const OUTSIDE_REFERENCES: { name: string; pattern: RegExp }[] = [
  { name: "a section of the design notes", pattern: /design(?:\.md)?`?\s*§/i },
  { name: "the design notes file", pattern: /\bdesign\.md\b/ },
  { name: "the shared notes folder", pattern: /\.\.\/shared\/|\/work\/shared\b/ },
  { name: "a research note", pattern: /\bresearch\/[\w-]+\.md\b/ },
];
const THIS_FILE = relative(ROOT, import.meta.filename);

function trackedTextFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", ...SCANNED], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return listed
    .split("\n")
    .filter((file) => file !== "" && file !== THIS_FILE && !/\.(png|jpe?g|gif|ico|tgz)$/.test(file));
}

describe("references in code and docs", () => {
  it("cite docs/ pages, never notes outside the repository", () => {
    const found: string[] = [];
    for (const file of trackedTextFiles()) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), "utf8");
      } catch {
        continue; // listed but deleted in the working tree
      }
      text.split("\n").forEach((line, index) => {
        for (const { name, pattern } of OUTSIDE_REFERENCES) {
          if (pattern.test(line)) found.push(`${file}:${index + 1}: ${name}: ${line.trim().slice(0, 120)}`);
        }
      });
    }
    expect(found).toEqual([]);
  });
});
