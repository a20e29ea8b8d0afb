// Drives Debian's Chromium through examples/pages.rs for tests/browser.rs, with playwright-core
// (pinned by package-lock.json; it never downloads a browser).
//
//   node scenarios.mjs --app http://127.0.0.1:PORT --attacker-port PORT
//
// Each scenario prints one line, `result {"scenario": .., ..what the browser saw}` (or with
// "error"), and the Rust test judges them. `control advance SECONDS` asks the test to move
// the app's clock; the test answers `ok` on standard input. Nothing printed holds a cookie
// value: cookies are reported as booleans.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
};
const APP = arg('--app');
const ATTACKER_PORT = arg('--attacker-port');
const COOKIE = 'pages_session';

const lines = createInterface({ input: process.stdin });
const input = lines[Symbol.asyncIterator]();
/** Asks the Rust test for something and waits for its `ok`. */
async function control(command) {
  console.log(`control ${command}`);
  const { value, done } = await input.next();
  if (done || value !== 'ok') throw new Error(`control ${command}: ${value}`);
}

function report(scenario, facts) {
  console.log(`result ${JSON.stringify({ scenario, ...facts })}`);
}

/** Runs one scenario; a failure is reported and the next scenario still runs. */
async function scenario(name, body) {
  try {
    report(name, await body());
  } catch (e) {
    report(name, { error: String(e && e.message ? e.message : e).split('\n')[0] });
  }
}

/** The path, query and fragment of a URL. */
const pathOf = (url) => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search + parsed.hash;
};
/** The path, query and fragment of the page's URL. */
const where = (page) => pathOf(page.url());

/**
 * Logs in through the form at `/login?next=..` (or the page's form when already there); the
 * response of the page the login's redirect ends on, whatever its status (an error page's
 * navigation fails in Chromium, so it is not waited for as a navigation).
 */
async function logIn(page, who, next) {
  if (next !== undefined) await page.goto(`${APP}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(`${who}@example.com`);
  await page.getByLabel('Password').fill(`${who}-password`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest()
      && r.request().method() === 'GET' && (r.status() < 300 || r.status() >= 400)),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  await page.waitForLoadState().catch(() => {});
  return response;
}

/** Posts a form to `path` from the page (the app's own origin), and the response to it. */
async function postFrom(page, path) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${APP}${path}` && r.request().method() === 'POST'),
    page.evaluate((action) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      document.body.append(form);
      form.submit();
    }, path),
  ]);
  return {
    status: response.status(),
    type: response.headers()['content-type'] ?? null,
    body: await response.text(),
  };
}

/** The id of the note with this text on the notes page, or null. */
async function noteId(page, text) {
  await page.goto(`${APP}/notes`);
  const item = page.locator('#notes li', { hasText: text });
  if ((await item.count()) === 0) return null;
  return (await item.first().getAttribute('id')).replace('note-', '');
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  // Playwright gives each launch a fresh, temporary profile (user data dir).
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const fresh = async () => {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  return [context, await context.newPage()];
};

try {
  const [alice, alicePage] = await fresh();
  let note = null;

  await scenario('login lands on next', async () => {
    await alicePage.goto(`${APP}/notes`);
    const loginPage = where(alicePage);
    await logIn(alicePage, 'alice');
    return { login_page: loginPage, landed: where(alicePage) };
  });

  await scenario('add a note', async () => {
    await alicePage.getByLabel('New note').fill('buy milk');
    await Promise.all([
      alicePage.waitForNavigation(),
      alicePage.getByRole('button', { name: 'Add' }).click(),
    ]);
    const landed = where(alicePage);
    const notice = await alicePage.locator('.notice').textContent().catch(() => null);
    note = await noteId(alicePage, 'buy milk'); // a second load of /notes
    const notice_after = await alicePage.locator('.notice').count();
    return { landed, note, notice, notice_after };
  });

  await scenario('a bearer header does not replace the page cookie', async () => {
    // A header an extension or a proxy adds: the pages take the session cookie only, so a
    // bearer token is not examined (on a route that took both, it would win, and refuse).
    const context = alice;
    await context.setExtraHTTPHeaders({ Authorization: 'Bearer not.a.token' });
    const response = await alicePage.goto(`${APP}/notes`);
    const facts = { status: response.status(), landed: where(alicePage) };
    await context.setExtraHTTPHeaders({});
    return facts;
  });

  await scenario("another user's delete is a missing note's 404", async () => {
    const [bob, bobPage] = await fresh();
    await logIn(bobPage, 'bob', '/notes');
    const other = await postFrom(bobPage, `/notes/${note}/delete`);
    await bobPage.goto(`${APP}/notes`);
    const missing = await postFrom(bobPage, '/notes/999999/delete');
    await bob.close();
    return { other, missing, note_kept: (await noteId(alicePage, 'buy milk')) === note };
  });

  await scenario('forged form posts from other origins', async () => {
    // The attacker's page posts alice's delete form as soon as it loads. From another port
    // of 127.0.0.1 (same site, another origin) and from localhost (another site).
    const forged = {};
    for (const host of ['127.0.0.1', 'localhost']) {
      const action = `${APP}/notes/${note}/delete`;
      const [response] = await Promise.all([
        alicePage.waitForResponse((r) => r.url() === action && r.request().method() === 'POST'),
        alicePage.goto(`http://${host}:${ATTACKER_PORT}/forge?action=${encodeURIComponent(action)}`),
      ]);
      forged[host] = { status: response.status(), location: response.headers()['location'] ?? null };
    }
    return { ...forged, note_kept: (await noteId(alicePage, 'buy milk')) === note };
  });

  await scenario('logout', async () => {
    await alicePage.goto(`${APP}/notes`);
    await Promise.all([
      alicePage.waitForNavigation(),
      alicePage.getByRole('button', { name: 'Log out' }).click(),
    ]);
    const landed = where(alicePage);
    const who = await alicePage.locator('#who').textContent();
    await alicePage.goto(`${APP}/notes`);
    const cookie = (await alice.cookies()).some((c) => c.name === COOKIE);
    return { landed, who, notes_then: where(alicePage), cookie_in_jar: cookie };
  });

  await scenario('a dead session cookie on the public home page', async () => {
    const [context, page] = await fresh();
    await logIn(page, 'alice', '/notes');
    const [stale] = (await context.cookies()).filter((c) => c.name === COOKIE);
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Log out' }).click(),
    ]);
    // The logged-out session's cookie, put back: the browser still holds a dead session.
    await context.addCookies([stale]);
    const response = await page.goto(`${APP}/`);
    const setCookie = (await response.allHeaders())['set-cookie'] ?? '';
    const facts = {
      status: response.status(),
      who: await page.locator('#who').textContent().catch(() => null),
      clears_cookie: setCookie.includes(`${COOKIE}=`) && /max-age=0/i.test(setCookie),
      cookie_in_jar_after: (await context.cookies()).some((c) => c.name === COOKIE),
    };
    await context.close();
    return facts;
  });

  await scenario('an expired session submitting a POST form', async () => {
    const [context, page] = await fresh();
    await logIn(page, 'alice', '/notes');
    const id = await noteId(page, 'buy milk');
    // The session expires while the page is open (past the 30 minute idle timeout).
    await control('advance 3600');
    await Promise.all([
      page.waitForNavigation(),
      page.locator(`#note-${id}`).getByRole('button', { name: 'Delete' }).click(),
    ]);
    const loginPage = where(page);
    const response = await logIn(page, 'alice');
    const facts = { login_page: loginPage, landed: pathOf(response.url()), status: response.status() };
    await context.close();
    return facts;
  });
} finally {
  await browser.close();
  lines.close(); // standard input no longer keeps the process alive
}
