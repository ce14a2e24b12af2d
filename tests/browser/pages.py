"""What the browser tests of the portal's pages share: sign in in a fresh context (axe-core
preloaded, page and console errors collected) and check a page at desktop width and on a
390-pixel phone (axe-core WCAG 2.1 A/AA, no sideways scroll), with a screenshot of each for a
person to look at (test-results/browser/<prefix>-<name>-<width>.png)."""
from tests.browser.test_registrar_profile_browser import AXE, axe_violations

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PASSWORD = "demo-pass-2026"


def check(page, shots_dir, name, problems, *, prefix):
    """Append every accessibility or layout problem of the page, at both widths, to `problems`."""
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        problems += [f"{name} @{label}: {v}" for v in axe_violations(page)]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px")
        page.screenshot(path=str(shots_dir / f"{prefix}-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(browser, stack, username, errors):
    """(context, page) signed in as `username`; page errors and console errors (other than a
    resource answered with an error status on purpose) are appended to `errors`."""
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    page.goto("/login")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    return ctx, page
