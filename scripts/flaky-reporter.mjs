// A vitest reporter for `npm test`: writes the tests that failed and then passed on their retry to
// .test-results/flaky.json, so the run's summary names them instead of hiding them (scripts/test.mjs).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export default class FlakyReporter {
  flaky = [];

  onInit(vitest) {
    this.root = vitest.config.root;
  }

  onTestCaseResult(testCase) {
    const diagnostic = testCase.diagnostic();
    if (!diagnostic?.flaky) return;
    const firstError = testCase.result().errors?.[0]?.message ?? "";
    this.flaky.push({
      file: relative(this.root ?? process.cwd(), testCase.module.moduleId),
      name: testCase.fullName,
      retries: diagnostic.retryCount,
      firstError: firstError.split("\n")[0].slice(0, 300),
    });
  }

  onTestRunEnd() {
    const outputFile = join(this.root ?? process.cwd(), ".test-results", "flaky.json");
    mkdirSync(dirname(outputFile), { recursive: true });
    writeFileSync(outputFile, `${JSON.stringify(this.flaky, null, 2)}\n`);
  }
}
