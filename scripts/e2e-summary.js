// Reads Playwright's JSON report and fails unless tests ran and none failed.
const fs = require("fs");
const file = process.argv[2];
// An optional label ("on Postgres") for a run other than the main one.
const label = process.argv[3] ? ` ${process.argv[3]}` : "";
if (!fs.existsSync(file)) {
  console.error(`e2e${label}: no Playwright report at ${file}: the tests did not run`);
  process.exit(1);
}
const { stats } = JSON.parse(fs.readFileSync(file, "utf8"));
const passed = stats.expected + stats.flaky;
const failed = stats.unexpected;
console.log(`e2e${label}: ${passed} passed, ${failed} failed` + (stats.skipped ? `, ${stats.skipped} skipped` : ""));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
