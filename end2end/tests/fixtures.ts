// Every spec imports `test` from here rather than from Playwright, so that
// every page any test opens (its own contexts included) is watched for
// uncaught errors. A WASM panic leaves the page's Rust dead while the HTML
// still looks right, so assertions on the screen alone can miss it: here
// the test fails on it.
import { test as base, expect, type BrowserContext, type Page } from "@playwright/test";

export * from "@playwright/test";

export const test = base.extend<{ pageErrors: string[]; expectedPageErrors: RegExp[] }>({
  // A spec that makes pages fail on purpose (say, by blocking the scripts)
  // names the errors it expects.
  expectedPageErrors: [[], { option: true }],
  pageErrors: [
    async ({ browser, context, expectedPageErrors }, use) => {
      const errors: string[] = [];
      const watchPage = (page: Page) =>
        page.on("pageerror", (error) => {
          if (!expectedPageErrors.some((expected) => expected.test(error.message))) {
            errors.push(`${page.url()}: ${error.message}`);
          }
        });
      const watch = (watched: BrowserContext) => {
        watched.pages().forEach(watchPage);
        watched.on("page", watchPage);
      };
      watch(context);
      // `browser.newPage` goes through `newContext` too.
      const newContext = browser.newContext;
      browser.newContext = async (...options) => {
        const created = await newContext.apply(browser, options);
        watch(created);
        return created;
      };
      try {
        await use(errors);
      } finally {
        browser.newContext = newContext;
      }
      expect(errors, "uncaught errors in a page (a WASM panic?)").toEqual([]);
    },
    { auto: true },
  ],
});
