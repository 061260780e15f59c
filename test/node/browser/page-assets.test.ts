import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildPageModule, GENERATED_MODULE } from "../../../scripts/build-page.ts";
import { PAGE_HTML } from "../../../src/relay/page/assets.generated.ts";
import { pageRoutes } from "../../../src/relay/page/route.ts";

describe("live page assets", () => {
  it("the committed bundle matches its sources (run `npm run build:page` when this fails)", async () => {
    const fresh = await buildPageModule();
    const committed = readFileSync(GENERATED_MODULE, "utf8");
    expect(committed === fresh, "src/relay/page/assets.generated.ts is stale: run `npm run build:page`").toBe(
      true,
    );
  });

  it("the HTML loads only its own script and stylesheet: no inline code, no CDN", () => {
    const html = PAGE_HTML.body;
    expect(html).toContain('<script type="module" src="page/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="page/style.css">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
  });
});

describe("page routes", () => {
  const page = pageRoutes();

  it("GET / serves the page with a strict CSP and an ETag", async () => {
    const response = await page.request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("etag")).toBe(PAGE_HTML.etag);
    expect(await response.text()).toBe(PAGE_HTML.body);
  });

  it("serves the script and stylesheet with their types", async () => {
    const script = await page.request("/page/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await script.text()).length).toBeGreaterThan(1000);
    const style = await page.request("/page/style.css");
    expect(style.status).toBe(200);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answers 304 to a matching If-None-Match and 200 to a stale one", async () => {
    const first = await page.request("/page/app.js");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await page.request("/page/app.js", { headers: { "if-none-match": `W/"old", ${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const stale = await page.request("/page/app.js", { headers: { "if-none-match": '"something-else"' } });
    expect(stale.status).toBe(200);
  });

  it("HEAD has the headers and no body", async () => {
    const response = await page.request("/", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe(PAGE_HTML.etag);
    expect(await response.text()).toBe("");
  });

  it("serves nothing else under /page/", async () => {
    for (const path of [
      "/page/",
      "/page/main.ts",
      "/page/../package.json",
      "/page/app.js/x",
      "/index.html",
    ]) {
      expect((await page.request(path)).status, path).toBe(404);
    }
  });
});
