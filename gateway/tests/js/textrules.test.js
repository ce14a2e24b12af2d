// node --test gateway/tests/js: the portal's counter follows the same table as the service.
const test = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const rules = require(path.join(__dirname, "..", "..", "gateway", "static", "textrules.js"));
const table = require(path.join(__dirname, "..", "..", "..", "tests", "contract", "text-rules.json"));

for (const c of table.cases) {
  test(c.name, () => {
    const cleaned = rules.cleanText(c.input);
    assert.strictEqual(cleaned, c.cleaned);
    assert.strictEqual(rules.countChars(cleaned), c.length);
    assert.strictEqual(rules.cleanedLength(c.input), c.length);
  });
}
