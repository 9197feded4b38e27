// Drives Debian's headless Chromium (through playwright-core, never a downloaded browser)
// through authkit's login flow behind nginx: a protected URL sends the browser to /login,
// a wrong password shows the error, the right one lands on the page, /account shows who
// is signed in, "Sign out" (a form with the session's anti-CSRF token) goes back to /login
// and the page is protected again.
//   node login.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR USER_DATA_DIR
// Prints "ok - ..." or "FAIL - ..." per check (test_browser.sh counts them); exits 1 on
// any failure.
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [base, username, password, shotDir, userDataDir] = process.argv.slice(2);
if (!userDataDir) {
  console.error('usage: node login.mjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR USER_DATA_DIR');
  process.exit(2);
}

const COOKIE = '__Host-session_token';
let failed = 0;

// One check: passes unless `fn` throws or returns false.
async function check(name, fn) {
  try {
    const result = await fn();
    if (result === false) throw new Error('condition not met');
    console.log(`ok - ${name}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name} (${String(e.message).split('\n')[0]})`);
    return false;
  }
}

function expectEqual(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function expectLoginPage(page, next) {
  const url = new URL(page.url());
  expectEqual(url.pathname, '/login', `path of ${page.url()}`);
  if (next !== undefined) expectEqual(url.searchParams.get('next'), next, 'next');
}

async function sessionCookie(context) {
  return (await context.cookies(base)).find((c) => c.name === COOKIE);
}

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1024, height: 720 },
});
context.setDefaultTimeout(10000);
context.setDefaultNavigationTimeout(15000);

try {
  const page = context.pages()[0] ?? (await context.newPage());
  const cspErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
      cspErrors.push(msg.text());
  });

  // 1. A protected URL without a session: the login page.
  await check('GET /private without a session lands on /login?next=/private', async () => {
    await page.goto(`${base}/private`);
    expectLoginPage(page, '/private');
  });
  await check('the login form is visible (username, password, remember me, submit)', async () => {
    for (const sel of ['#username', '#password', '#remember_me', 'button[type=submit]'])
      if (!(await page.locator(sel).isVisible())) throw new Error(`${sel} is not visible`);
    await page.getByLabel('Password', { exact: true }).waitFor({ state: 'visible' });
    await page.getByLabel('Username or email').waitFor({ state: 'visible' });
  });
  await check("the page's own style applies under its CSP (no violation)", async () => {
    const bg = await page.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor);
    expectEqual(bg, 'rgb(36, 83, 179)', 'button background');
    expectEqual(cspErrors.length, 0, `CSP errors ${cspErrors.join(' | ')}`);
  });
  const loginShot = join(shotDir, 'login.png');
  await page.screenshot({ path: loginShot, fullPage: true });
  console.log(`# screenshot of the login page: ${loginShot}`);

  // 2. A wrong password: the same form again, with the error.
  await check('a wrong password: 401 and the page shows #error "Invalid username or password"', async () => {
    await page.fill('#username', username);
    await page.fill('#password', 'not the password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
      page.click('button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    expectEqual(response.status(), 401, 'status');
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    expectEqual((await error.textContent()).trim(), 'Invalid username or password', '#error text');
    if (await sessionCookie(context)) throw new Error('a session cookie was set');
  });
  const errorShot = join(shotDir, 'login-error.png');
  await page.screenshot({ path: errorShot, fullPage: true });
  console.log(`# screenshot of the failed login: ${errorShot}`);

  // 3. The right password (with "Keep me signed in"): back to the page first asked for.
  await check('the right password lands on /private, where the app greets the user', async () => {
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.check('#remember_me');
    await Promise.all([page.waitForURL(`${base}/private`), page.click('button[type=submit]')]);
    const text = await page.locator('body').innerText();
    if (!text.includes(`hello ${username}`)) throw new Error(`body is ${JSON.stringify(text.slice(0, 200))}`);
  });
  await check(`Chromium kept the ${COOKIE} cookie (Secure, HttpOnly, SameSite=Lax, ~30 days)`, async () => {
    const c = await sessionCookie(context);
    if (!c) throw new Error('no session cookie in the browser');
    expectEqual(c.secure, true, 'secure');
    expectEqual(c.httpOnly, true, 'httpOnly');
    expectEqual(c.sameSite, 'Lax', 'sameSite');
    expectEqual(c.path, '/', 'path');
    const days = (c.expires - Date.now() / 1000) / 86400;
    if (!(days > 29 && days <= 30.01)) throw new Error(`expires in ${days.toFixed(2)} days, not 30 (remember me)`);
  });
  await check('the session cookie is not readable from JavaScript', async () => {
    const visible = await page.evaluate(() => document.cookie);
    if (visible.includes(COOKIE)) throw new Error('document.cookie shows it');
  });

  // 4. authkit's own page (published by nginx as /account): who is signed in.
  await check('/account shows "signed in as" the user', async () => {
    await page.goto(`${base}/account`);
    const who = await page.locator('#who').innerText();
    if (!/signed in as/i.test(who) || !who.includes(username)) throw new Error(`#who is ${JSON.stringify(who)}`);
  });
  const accountShot = join(shotDir, 'account.png');
  await page.screenshot({ path: accountShot, fullPage: true });
  console.log(`# screenshot of /account: ${accountShot}`);

  await check("the sign-out form carries the session's anti-CSRF token in a hidden field", async () => {
    const field = page.locator('form[action="/logout"] input[type=hidden][name=csrf_token]');
    const value = await field.getAttribute('value');
    if (!/^[A-Za-z0-9_-]{43}$/.test(value ?? '')) throw new Error(`value is ${JSON.stringify(value)}`);
  });

  // 5. Sign out (the form posts its csrf_token): back on /login, the cookie gone (and only that one: a cookie of the app
  // survives), the page protected again.
  await context.addCookies([{ name: 'app_pref', value: 'dark', url: base }]);
  await check('clicking #signout goes back to /login and removes the session cookie', async () => {
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.click('#signout')]);
    expectLoginPage(page);
    if (await sessionCookie(context)) throw new Error('the session cookie is still there');
  });
  await check("signing out leaves the app's own cookies alone", async () => {
    const names = (await context.cookies(base)).map((c) => c.name);
    if (!names.includes('app_pref')) throw new Error(`cookies left: ${JSON.stringify(names)}`);
  });
  await check('opening /private again redirects to /login?next=/private', async () => {
    await page.goto(`${base}/private`);
    expectLoginPage(page, '/private');
  });
} catch (e) {
  failed++;
  console.log(`FAIL - the browser run stopped: ${String(e.message).split('\n')[0]}`);
} finally {
  await context.close();
}
process.exit(failed ? 1 : 0);
